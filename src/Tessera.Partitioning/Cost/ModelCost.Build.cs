using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.Cost;

/// <summary>Building the analysis: order, constant folding classes, value sizes and liveness.</summary>
public sealed partial class ModelCost
{
    private readonly Dictionary<string, SortedSet<int>> _constantValues = new(StringComparer.Ordinal);

    private ModelCost(OnnxModel source, OnnxModel optimized, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        SourceModel = source;
        OptimizedModel = optimized;
        var graph = optimized.Graph;
        InputShapes = FixedInputShapes(graph, inputShapes);
        var shapes = new ConcreteShapes(optimized, source, InputShapes);

        var outer = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        outer.UnionWith(graph.Initializers.Keys);
        foreach (var node in graph.Nodes) outer.UnionWith(node.Outputs.Where(o => o.Length > 0));

        foreach (var (name, tensor) in graph.Initializers)
        {
            int id = _initializers.Count;
            _initializers.Add(name);
            _sourceBytes.Add(tensor.ByteLength);
            if (!graph.OverridableInitializers.Contains(name)) _constantValues[name] = [id];
        }

        foreach (var input in graph.Inputs)
        {
            _producer[input.Name] = -1;
            _lastUse[input.Name] = 0;
            _runtimeValues.Add(input.Name);
        }

        var claimed = new HashSet<int>();
        foreach (var node in TopologicalSort(graph, outer))
        {
            var reads = GraphReads.Of(node, outer);
            if (!IsNondeterministic(node.OpType) && reads.All(_constantValues.ContainsKey))
            {
                AddConstantNode(node, reads, shapes);
            }
            else
            {
                AddStep(node, reads, shapes, claimed);
            }
        }

        int n = _steps.Count;
        if (n == 0) throw new PartitionException("the model has no node that runs per inference (everything is constant); there is nothing to partition");
        foreach (var output in graph.Outputs)
        {
            if (_producer.ContainsKey(output.Name)) _lastUse[output.Name] = n;
            else _outputSourceValues.Add(output.Name);
        }

        foreach (string v in _runtimeValues)
        {
            long? bytes = shapes.BytesOf(v);
            if (bytes is null) UnknownValueCount++;
            _bytes[v] = bytes ?? 0;
            _types[v] = shapes.TypeOf(v);
            if (shapes.ShapeOf(v) is { } shape) _ranks[v] = shape.Length;
        }

        ComputeLiveness(n);
    }

    private void AddConstantNode(OnnxNode node, List<string> reads, ConcreteShapes shapes)
    {
        int id = _initializers.Count + _constantNodes.Count;
        _constantNodes.Add(node);
        var closure = new SortedSet<int> { id };
        foreach (string r in reads) closure.UnionWith(_constantValues[r]);
        long bytes = 0;
        foreach (string o in node.Outputs.Where(o => o.Length > 0))
        {
            _constantValues[o] = closure;
            bytes += shapes.BytesOf(o) ?? 0;
        }

        _sourceBytes.Add(bytes);
    }

    private void AddStep(OnnxNode node, List<string> reads, ConcreteShapes shapes, HashSet<int> claimed)
    {
        int t = _steps.Count;
        _steps.Add(node);
        _stepReads.Add(reads);
        var sources = new SortedSet<int>();
        long outputBytes = node.Outputs.Where(o => o.Length > 0).Sum(o => shapes.BytesOf(o) ?? 0);
        long moved = 0;
        foreach (string r in reads)
        {
            // A gather reads only the rows its indices pick (an output's worth), not the whole table.
            bool table = node.OpType is "Gather" or "GatherElements" or "GatherND" && node.Inputs.Count > 0 && r == node.Inputs[0];
            moved += table ? outputBytes : shapes.BytesOf(r) ?? 0;
            if (_constantValues.TryGetValue(r, out var closure)) sources.UnionWith(closure);
            else if (_initializers.IndexOf(r) is var init and >= 0) sources.Add(init);
            else if (_producer.ContainsKey(r)) _lastUse[r] = t;
        }

        foreach (string o in node.Outputs.Where(o => o.Length > 0))
        {
            _producer[o] = t;
            _lastUse[o] = t;
            _runtimeValues.Add(o);
        }

        long firstUse = 0;
        foreach (int s in sources)
        {
            if (claimed.Add(s)) firstUse += _sourceBytes[s];
        }

        _stepSources.Add([.. sources]);
        long splittable = node.OpType is "MatMul" or "Gemm" or "FusedMatMul" or "FusedGemm" && node.Inputs.Count > 1
            && ConstantClosure(node.Inputs[1]).Any() && shapes.ShapeOf(node.Inputs[1]) is { Length: 2 }
            ? shapes.BytesOf(node.Inputs[1]) ?? 0
            : 0;
        _nodes.Add(new NodeCost(t, node.DisplayName, node.OpType, OperatorFamilies.Of(node.OpType),
            NodeFlops.Of(node, shapes.ShapeOf), moved + outputBytes, firstUse, outputBytes, splittable));
    }

    private IEnumerable<int> ConstantClosure(string value) =>
        _constantValues.TryGetValue(value, out var set) ? set : [];

    private void ComputeLiveness(int n)
    {
        var live = new long[n + 1];
        var cut = new long[n + 2];
        foreach (string v in _runtimeValues)
        {
            long b = _bytes[v];
            int p = _producer[v];
            int last = _lastUse[v];
            live[Math.Max(p, 0)] += b;
            live[Math.Min(last, n - 1) + 1] -= b;
            if (last > p)
            {
                cut[p + 1] += b;
                cut[last + 1] -= b;
            }
        }

        _live = new long[n];
        _cut = new long[n + 1];
        long run = 0;
        for (int t = 0; t < n; t++) _live[t] = run += live[t];
        run = 0;
        for (int k = 0; k <= n; k++) _cut[k] = run += cut[k];
    }

    private static Dictionary<string, int[]> FixedInputShapes(OnnxGraph graph, IReadOnlyDictionary<string, int[]> given)
    {
        foreach (string name in given.Keys)
        {
            if (!graph.Inputs.Any(i => i.Name == name))
            {
                throw new PartitionException($"the model has no input named '{name}'; its inputs are: {string.Join(", ", graph.Inputs.Select(i => i.Name))}");
            }
        }

        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            if (given.TryGetValue(input.Name, out var shape))
            {
                if (input.Shape is { } declared && (declared.Length != shape.Length
                    || declared.Zip(shape).Any(p => p.First.IsKnown && p.First.Value != p.Second)))
                {
                    throw new PartitionException($"input '{input.Name}' is declared {input.FormatShape()}; the shape given, [{string.Join(",", shape)}], does not match it");
                }

                shapes[input.Name] = (int[])shape.Clone();
            }
            else if (input.HasFullyKnownShape)
            {
                shapes[input.Name] = input.Shape!.Select(d => checked((int)d.Value!.Value)).ToArray();
            }
            else
            {
                throw new PartitionException($"input '{input.Name}' has shape {input.FormatShape()}, which is not fixed; give it with --input-shape {input.Name}=D1xD2...");
            }
        }

        return shapes;
    }

    // Kahn's algorithm, taking the earliest ready node of the original list first, so the order is stable.
    private static List<OnnxNode> TopologicalSort(OnnxGraph graph, HashSet<string> outer)
    {
        var nodes = graph.Nodes;
        var producerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string o in nodes[i].Outputs.Where(o => o.Length > 0)) producerIndex.TryAdd(o, i);
        }

        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
            foreach (string r in GraphReads.Of(nodes[i], outer).Where(producerIndex.ContainsKey))
            {
                pending[i]++;
                dependents[producerIndex[r]].Add(i);
            }
        }

        var ready = new SortedSet<int>(Enumerable.Range(0, nodes.Count).Where(i => pending[i] == 0));
        var order = new List<OnnxNode>(nodes.Count);
        while (ready.Count > 0)
        {
            int i = ready.Min;
            ready.Remove(i);
            order.Add(nodes[i]);
            foreach (int d in dependents[i])
            {
                if (--pending[d] == 0) ready.Add(d);
            }
        }

        if (order.Count < nodes.Count)
        {
            throw new PartitionException("the graph has a cycle or reads a value nothing produces; it cannot be ordered for partitioning");
        }

        return order;
    }

    private static bool IsNondeterministic(string opType) =>
        opType is "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial" or "Bernoulli";
}
