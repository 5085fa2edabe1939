using Tessera.Kernels.Collective;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// Writes one rank's shard of a <see cref="SplitPlan"/>: the model with each split layer's weight cut to the rank's
/// slice, the collectives inserted, heads reshapes and QKV splits resized, and whatever became unused dropped.
/// </summary>
internal sealed partial class ShardBuilder
{
    private readonly GraphIndex _index;
    private readonly SplitPlan _plan;
    private readonly int _rank;
    private readonly int _degree;
    private readonly OnnxModel _shard;
    private readonly List<OnnxNode> _nodes = [];

    private ShardBuilder(GraphIndex index, SplitPlan plan, int rank, int degree)
    {
        _index = index;
        _plan = plan;
        _rank = rank;
        _degree = degree;
        _shard = ModelCopy.Of(index.Model, []);
    }

    private OnnxGraph Graph => _shard.Graph;

    public static OnnxModel Build(GraphIndex index, SplitPlan plan, int rank, int degree)
    {
        var builder = new ShardBuilder(index, plan, rank, degree);
        builder.Rewrite();
        return builder._shard;
    }

    private void Rewrite()
    {
        var reshapes = _plan.Regions.SelectMany(r => r.ReshapeShapes).ToDictionary(p => p.Key, p => p.Value);
        var splits = _plan.Regions.SelectMany(r => r.SplitSizes).ToDictionary(p => p.Key, p => p.Value);
        var biasAdds = _plan.Assignments.Values.Where(a => a.Layer.BiasAdd is not null)
            .ToDictionary(a => a.Layer.BiasAdd!, a => a);

        foreach (var original in _index.Nodes)
        {
            var node = ModelCopy.Node(original);
            int position = _index.PositionOf(original);
            if (_plan.Assignments.TryGetValue(original, out var assignment))
            {
                EmitLayer(node, assignment, position);
            }
            else if (biasAdds.TryGetValue(original, out var owner))
            {
                EmitBias(node, owner, position);
            }
            else if (reshapes.TryGetValue(original, out var shape))
            {
                node.Inputs[1] = AddInitializer($"{original.Inputs[1]}.tp{position}", Tensor.FromArray(shape, shape.Length));
                node.Attributes.Remove("allowzero");
                _nodes.Add(node);
            }
            else if (splits.TryGetValue(original, out var sizes))
            {
                ResizeSplit(node, sizes, position);
                _nodes.Add(node);
            }
            else
            {
                _nodes.Add(node);
            }
        }

        Graph.Nodes.AddRange(_nodes);
        RemoveUnused();
        foreach (var value in _plan.Regions.SelectMany(r => r.ShardedValues)) Graph.ValueInfos.Remove(value);
        _shard.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        _shard.Metadata["tessera.tensor_parallel.rank"] = _rank.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _shard.Metadata["tessera.tensor_parallel.degree"] = _degree.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private void ResizeSplit(OnnxNode node, long[]? sizes, int position)
    {
        if (sizes is null)
        {
            return;
        }

        if (node.Inputs.Count > 1 && node.Inputs[1].Length > 0)
        {
            node.Inputs[1] = AddInitializer($"{node.Inputs[1]}.tp{position}", Tensor.FromArray(sizes, sizes.Length));
        }
        else
        {
            node.Attributes["split"] = new NodeAttribute { Name = "split", Kind = AttributeKind.Ints, Ints = sizes };
        }
    }

    private OnnxNode Collective(string opType, string input, string output, string key, int? axis = null)
    {
        var node = new OnnxNode { OpType = opType, Domain = TesseraDomain.Name, Name = $"{output}/{opType}" };
        node.Inputs.Add(input);
        node.Outputs.Add(output);
        node.Attributes["key"] = new NodeAttribute { Name = "key", Kind = AttributeKind.String, String = key };
        if (axis is { } a)
        {
            node.Attributes["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = a };
        }

        return node;
    }

    private string AddInitializer(string name, Tensor value)
    {
        string unique = name;
        for (int i = 2; Graph.Initializers.ContainsKey(unique) || _index.ProducerOf(unique) is not null; i++) unique = $"{name}_{i}";
        Graph.Initializers[unique] = value;
        return unique;
    }

    /// <summary>Drops nodes whose outputs nothing reads any more (e.g. the shape computations of replaced reshape targets), then unread initializers.</summary>
    private void RemoveUnused()
    {
        var live = new HashSet<string>(Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var kept = new List<OnnxNode>();
        for (int i = Graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = Graph.Nodes[i];
            if (node.Outputs.Any(live.Contains) || node.Domain == TesseraDomain.Name)
            {
                kept.Add(node);
                live.UnionWith(node.Inputs);
                foreach (var attribute in node.Attributes.Values) AddSubgraphReads(attribute, live);
            }
        }

        kept.Reverse();
        Graph.Nodes.Clear();
        Graph.Nodes.AddRange(kept);
        foreach (var name in Graph.Initializers.Keys.Where(n => !live.Contains(n) && !Graph.OverridableInitializers.Contains(n)).ToList())
        {
            Graph.Initializers.Remove(name);
        }

        var produced = kept.SelectMany(n => n.Outputs).ToHashSet(StringComparer.Ordinal);
        foreach (var name in Graph.ValueInfos.Keys.Where(n => !produced.Contains(n)).ToList())
        {
            Graph.ValueInfos.Remove(name);
        }
    }

    /// <summary>Values a subgraph (If, Loop, Scan body) reads from the enclosing graph are live too.</summary>
    private static void AddSubgraphReads(NodeAttribute attribute, HashSet<string> live)
    {
        foreach (var graph in attribute.Graphs.Append(attribute.Graph).OfType<OnnxGraph>())
        {
            foreach (var node in graph.Nodes)
            {
                live.UnionWith(node.Inputs);
                foreach (var inner in node.Attributes.Values) AddSubgraphReads(inner, live);
            }
        }
    }
}
