using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Support;

/// <summary>Builds small models in code for tests of the reader, writer, engine and CLI.</summary>
internal sealed class GraphBuilder
{
    private readonly OnnxGraph _graph = new() { Name = "test" };

    public GraphBuilder Input(string name, DataType type, params object[] dims)
    {
        _graph.Inputs.Add(new ValueInfo { Name = name, ElementType = type, Shape = dims.Select(ToDim).ToArray() });
        return this;
    }

    public GraphBuilder Output(string name, DataType type = DataType.Undefined)
    {
        _graph.Outputs.Add(new ValueInfo { Name = name, ElementType = type });
        return this;
    }

    public GraphBuilder Initializer(string name, Tensor value)
    {
        _graph.Initializers[name] = value;
        return this;
    }

    public GraphBuilder Node(string opType, string[] inputs, string[] outputs, string name = "", params NodeAttribute[] attributes)
    {
        var node = new OnnxNode { OpType = opType, Name = name };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        foreach (var a in attributes) node.Attributes[a.Name] = a;
        _graph.Nodes.Add(node);
        return this;
    }

    public OnnxModel Build(int opset = 13) => new() { Graph = _graph, OpsetImports = { [""] = opset }, ProducerName = "tessera-tests" };

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    public static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };

    public static NodeAttribute Str(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    private static Dimension ToDim(object d) => d switch
    {
        int i => Dimension.Known(i),
        long l => Dimension.Known(l),
        string s => Dimension.Named(s),
        _ => throw new ArgumentException($"dimension {d} must be int or string"),
    };
}
