using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// What the rewriter looks up about a graph: nodes in topological order, producer and consumers of every value,
/// constant values (initializers and Constant nodes), and inferred shapes (from shape inference on a private copy).
/// </summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, OnnxNode> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(OnnxNode Node, int Input)>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<OnnxNode, int> _position = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, ValueInfo> _inferred;
    private readonly HashSet<string> _graphOutputs;

    public GraphIndex(OnnxModel model, IReadOnlyDictionary<string, int[]>? inputShapes = null)
    {
        Model = model;
        Graph = model.Graph;
        Nodes = TopologicalSort(Graph);
        for (int i = 0; i < Nodes.Count; i++)
        {
            var node = Nodes[i];
            _position[node] = i;
            foreach (var output in node.Outputs.Where(o => o.Length > 0)) _producers[output] = node;
            for (int j = 0; j < node.Inputs.Count; j++)
            {
                if (node.Inputs[j].Length == 0) continue;
                if (!_consumers.TryGetValue(node.Inputs[j], out var list)) _consumers[node.Inputs[j]] = list = [];
                list.Add((node, j));
            }
        }

        _graphOutputs = new HashSet<string>(Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);

        // Shapes come from inference on a copy, so the caller's model keeps its own value infos.
        var copy = ModelCopy.Of(model);
        ShapeInference.Infer(copy, inputShapes ?? ProbeShapes(Graph));
        _inferred = new Dictionary<string, ValueInfo>(copy.Graph.ValueInfos, StringComparer.Ordinal);
        foreach (var v in copy.Graph.Inputs.Concat(copy.Graph.Outputs)) _inferred[v.Name] = v;
        foreach (var (name, tensor) in Graph.Initializers)
        {
            _inferred[name] = new ValueInfo { Name = name, ElementType = tensor.DataType, Shape = tensor.Shape.Select(d => Dimension.Known(d)).ToArray() };
        }
    }

    public OnnxModel Model { get; }

    public OnnxGraph Graph { get; }

    /// <summary>Nodes in an order where every value is produced before it is read.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    public int PositionOf(OnnxNode node) => _position[node];

    public OnnxNode? ProducerOf(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<(OnnxNode Node, int Input)> ConsumersOf(string value) =>
        _consumers.TryGetValue(value, out var list) ? list : [];

    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    /// <summary>The value of a constant: a non-overridable initializer or the output of a Constant node with a tensor value.</summary>
    public Tensor? ConstantOf(string value)
    {
        if (Graph.Initializers.TryGetValue(value, out var tensor))
        {
            return Graph.OverridableInitializers.Contains(value) ? null : tensor;
        }

        var producer = ProducerOf(value);
        return producer is { OpType: "Constant", Domain: "" } ? producer.Attributes.GetValueOrDefault("value")?.Tensor : null;
    }

    public bool IsConstant(string value) => value.Length > 0 && ConstantOf(value) is not null;

    /// <summary>The inferred shape of a value, or null when its rank is unknown.</summary>
    public Dimension[]? ShapeOf(string value) =>
        ConstantOf(value) is { } constant ? constant.Shape.Select(d => Dimension.Known(d)).ToArray() : _inferred.GetValueOrDefault(value)?.Shape;

    public int? RankOf(string value) => ShapeOf(value)?.Length;

    public DataType TypeOf(string value) =>
        ConstantOf(value)?.DataType ?? _inferred.GetValueOrDefault(value)?.ElementType ?? DataType.Undefined;

    /// <summary>Whether two dimensions are certainly equal: the same number, or the same named symbol.</summary>
    public static bool SameDimension(Dimension a, Dimension b) =>
        (a.IsKnown && b.IsKnown && a.Value == b.Value) || (!a.IsKnown && !b.IsKnown && a.Symbol is not null && a.Symbol == b.Symbol);

    /// <summary>
    /// Concrete input shapes for inference when the caller gives none: each symbolic or unknown dimension becomes a
    /// distinct small prime (one per symbol), so shape computations evaluate and dimensions that come out equal
    /// are the same symbol rather than a coincidence. The rewrite itself never depends on these values (it keeps
    /// such dimensions with 0 in Reshape targets), only on ranks and the model's own constant dimensions.
    /// </summary>
    private static Dictionary<string, int[]> ProbeShapes(OnnxGraph graph)
    {
        int[] primes = [17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];
        var bySymbol = new Dictionary<string, int>(StringComparer.Ordinal);
        int next = 0;
        int Probe(Dimension d)
        {
            if (d.IsKnown) return (int)d.Value!.Value;
            if (d.Symbol is { } symbol && bySymbol.TryGetValue(symbol, out int value)) return value;
            value = primes[next++ % primes.Length];
            if (d.Symbol is { } name) bySymbol[name] = value;
            return value;
        }

        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs.Where(i => i.Shape is not null))
        {
            shapes[input.Name] = input.Shape!.Select(Probe).ToArray();
        }

        return shapes;
    }

    private static List<OnnxNode> TopologicalSort(OnnxGraph graph)
    {
        var available = new HashSet<string>(StringComparer.Ordinal) { string.Empty };
        available.UnionWith(graph.Inputs.Select(i => i.Name));
        available.UnionWith(graph.Initializers.Keys);
        var pending = new List<OnnxNode>(graph.Nodes);
        var order = new List<OnnxNode>(pending.Count);
        while (pending.Count > 0)
        {
            var next = new List<OnnxNode>();
            foreach (var node in pending)
            {
                if (node.Inputs.All(available.Contains))
                {
                    order.Add(node);
                    available.UnionWith(node.Outputs);
                }
                else
                {
                    next.Add(node);
                }
            }

            if (next.Count == pending.Count)
            {
                var stuck = next[0];
                throw new ArgumentException($"node '{stuck.DisplayName}' ({stuck.OpType}) reads '{stuck.Inputs.First(i => !available.Contains(i))}', which nothing before it provides (or the graph has a cycle)");
            }

            pending = next;
        }

        return order;
    }
}
