using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.Cost;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// Cuts a contiguous range of steps out of the optimised model as a standalone ONNX model. Its inputs are the
/// values crossing the cut before it, its outputs those crossing the cut after it; a value that skips the stage
/// (made earlier, read later) is both, so every stage receives only from the one before it. It holds only the
/// initializers and folded constant nodes its steps read. The first stage takes every model input, the last one
/// gives exactly the model outputs in the model's order.
/// </summary>
public static class StageExtractor
{
    public static OnnxModel Extract(ModelCost cost, int first, int last, string name)
    {
        var source = cost.OptimizedModel;
        var graph = source.Graph;
        int n = cost.Nodes.Count;
        if (first < 0 || last >= n || first > last) throw new ArgumentOutOfRangeException(nameof(first), $"steps {first}..{last} are not a range of 0..{n - 1}");

        var stage = new OnnxGraph { Name = name };
        var sources = cost.SourcesOf(first, last);
        foreach (int s in sources)
        {
            if (cost.InitializerOf(s) is { } init)
            {
                stage.Initializers[init] = graph.Initializers[init];
                if (graph.OverridableInitializers.Contains(init)) stage.OverridableInitializers.Add(init);
            }
            else
            {
                stage.Nodes.Add(CopyNode(cost.ConstantNodeOf(s)!));
            }
        }

        for (int t = first; t <= last; t++) stage.Nodes.Add(CopyNode(cost.Steps[t]));

        stage.Inputs.AddRange(first == 0 ? graph.Inputs.Select(Copy) : cost.CutValues(first).Select(v => Declare(cost, v)));
        stage.Outputs.AddRange(last == n - 1 ? graph.Outputs.Select(Copy) : cost.CutValues(last + 1).Select(v => Declare(cost, v)));

        var produced = new HashSet<string>(stage.Nodes.SelectMany(node => node.Outputs), StringComparer.Ordinal);
        foreach (var (value, info) in graph.ValueInfos)
        {
            if (produced.Contains(value) && !stage.Outputs.Any(o => o.Name == value)) stage.ValueInfos[value] = Copy(info);
        }

        var model = new OnnxModel
        {
            IrVersion = source.IrVersion,
            OpsetImports = new Dictionary<string, long>(source.OpsetImports, StringComparer.Ordinal),
            ProducerName = "tessera-plan",
            ProducerVersion = source.ProducerVersion,
            Domain = source.Domain,
            ModelVersion = source.ModelVersion,
            Graph = stage,
        };
        CheckFixedPoint(model, name);
        return model;
    }

    /// <summary>
    /// A stage is cut from an already optimised graph, so a session optimising it again must change nothing;
    /// otherwise it would compute differently from the whole model and the plan would not be bit-identical.
    /// </summary>
    private static void CheckFixedPoint(OnnxModel model, string name)
    {
        var again = GraphOptimizer.Optimize(model, new SessionOptions());
        var before = model.Graph.Nodes.Select(Signature).ToHashSet(StringComparer.Ordinal);
        var after = again.Graph.Nodes.Select(Signature).ToHashSet(StringComparer.Ordinal);
        if (!before.SetEquals(after))
        {
            string changed = after.Except(before).Concat(before.Except(after)).First();
            throw new InvalidOperationException($"internal error: {name} is not a fixed point of the graph optimiser (changed: {changed})");
        }
    }

    private static string Signature(OnnxNode node) => $"{node.Domain}:{node.OpType}({string.Join(",", node.Inputs)})->{string.Join(",", node.Outputs)}";

    // The optimised graph's own (possibly symbolic) declaration keeps the stage usable for other batch sizes;
    // without one (e.g. after a collective, which standard inference does not know), the element type and rank
    // inferred for the planned shapes with every dimension left open (the ONNX checker wants a shape field).
    private static ValueInfo Declare(ModelCost cost, string value)
    {
        var info = cost.OptimizedModel.Graph.FindValueInfo(value);
        if (info is not null && info.ElementType != Tessera.Tensors.DataType.Undefined && info.Shape is not null) return Copy(info);
        var shape = info?.Shape ?? (cost.RankOf(value) is int rank ? Enumerable.Repeat(Dimension.Unknown, rank).ToArray() : null);
        var type = info is not null && info.ElementType != Tessera.Tensors.DataType.Undefined ? info.ElementType : cost.ElementTypeOf(value);
        return new ValueInfo { Name = value, ElementType = type, Shape = shape };
    }

    private static ValueInfo Copy(ValueInfo v) => new()
    {
        Name = v.Name,
        ElementType = v.ElementType,
        Shape = v.Shape,
        DocString = v.DocString,
        NonTensorKind = v.NonTensorKind,
    };

    private static OnnxNode CopyNode(OnnxNode node)
    {
        var copy = new OnnxNode { Name = node.Name, OpType = node.OpType, Domain = node.Domain, DocString = node.DocString };
        copy.Inputs.AddRange(node.Inputs);
        copy.Outputs.AddRange(node.Outputs);
        foreach (var (key, attribute) in node.Attributes) copy.Attributes[key] = attribute;
        return copy;
    }
}
