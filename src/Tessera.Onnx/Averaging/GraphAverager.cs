using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Averaging;

/// <summary>
/// Builds the averaged copy of graphs already known to match (<see cref="ModelComparer"/> found no differences),
/// counting what it did. Graphs, nodes and attributes are copied; unchanged tensors are shared with the first graph.
/// </summary>
internal sealed class GraphAverager(double[] weights)
{
    public int AveragedTensors { get; private set; }

    public long AveragedValues { get; private set; }

    public int IdenticalTensors { get; private set; }

    public int CheckedEqualTensors { get; private set; }

    public OnnxGraph Average(OnnxGraph[] graphs)
    {
        var first = graphs[0];
        var result = new OnnxGraph
        {
            Name = first.Name,
            DocString = first.DocString,
            Inputs = first.Inputs,
            Outputs = first.Outputs,
            ValueInfos = first.ValueInfos,
            OverridableInitializers = new(first.OverridableInitializers, StringComparer.Ordinal),
        };
        foreach (var name in first.Initializers.Keys)
        {
            result.Initializers[name] = AverageTensor([.. graphs.Select(g => g.Initializers[name])]);
        }

        for (int i = 0; i < first.Nodes.Count; i++)
        {
            result.Nodes.Add(AverageNode([.. graphs.Select(g => g.Nodes[i])]));
        }

        return result;
    }

    private OnnxNode AverageNode(OnnxNode[] nodes)
    {
        var first = nodes[0];
        var node = new OnnxNode { Name = first.Name, OpType = first.OpType, Domain = first.Domain, DocString = first.DocString };
        node.Inputs.AddRange(first.Inputs);
        node.Outputs.AddRange(first.Outputs);
        foreach (var (name, a) in first.Attributes)
        {
            var all = nodes.Select(n => n.Attributes[name]).ToArray();
            node.Attributes[name] = a.Kind switch
            {
                AttributeKind.Tensor => With(a, tensor: AverageTensor([.. all.Select(x => x.Tensor!)])),
                AttributeKind.Tensors => With(a, tensors: [.. a.Tensors.Select((_, i) => AverageTensor([.. all.Select(x => x.Tensors[i])]))]),
                AttributeKind.Graph => With(a, graph: Average([.. all.Select(x => x.Graph!)])),
                AttributeKind.Graphs => With(a, graphs: [.. a.Graphs.Select((_, i) => Average([.. all.Select(x => x.Graphs[i])]))]),
                _ => a,
            };
        }

        return node;
    }

    private static NodeAttribute With(NodeAttribute a, Tensor? tensor = null, Tensor[]? tensors = null, OnnxGraph? graph = null, OnnxGraph[]? graphs = null) => new()
    {
        Name = a.Name,
        Kind = a.Kind,
        Float = a.Float,
        Int = a.Int,
        String = a.String,
        Floats = a.Floats,
        Ints = a.Ints,
        Strings = a.Strings,
        Tensor = tensor ?? a.Tensor,
        Tensors = tensors ?? a.Tensors,
        Graph = graph ?? a.Graph,
        Graphs = graphs ?? a.Graphs,
    };

    private Tensor AverageTensor(Tensor[] tensors)
    {
        var first = tensors[0];
        if (!DataTypes.IsFloatingPoint(first.DataType))
        {
            CheckedEqualTensors++;
            return first;
        }

        if (tensors.All(t => t.Bytes.SequenceEqual(first.Bytes)))
        {
            // Rounding w1*x + w2*x in float64 can move a float64 parameter by one ulp: identical tensors stay exact.
            IdenticalTensors++;
            return first;
        }

        AveragedTensors++;
        AveragedValues += first.Length;
        var acc = new double[first.Length];
        for (int m = 0; m < tensors.Length; m++)
        {
            Float64Accumulation.AddScaled(tensors[m], weights[m], acc);
        }

        var result = Tensor.Allocate(first.DataType, first.Shape);
        Float64Accumulation.Store(acc, result);

        return result;
    }
}
