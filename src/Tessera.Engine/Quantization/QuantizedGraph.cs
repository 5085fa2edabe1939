using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>The quantized model under construction: new node order, fresh value names, and the shared Q/DQ and weight values.</summary>
internal sealed class QuantizedGraph
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _shared = new(StringComparer.Ordinal);

    public QuantizedGraph(OnnxModel model)
    {
        Model = model;
        foreach (var node in model.Graph.Nodes) _names.UnionWith(node.Outputs);
        _names.UnionWith(model.Graph.Initializers.Keys);
        _names.UnionWith(model.Graph.Inputs.Select(i => i.Name));
    }

    public OnnxModel Model { get; }

    public List<OnnxNode> Nodes { get; } = [];

    public string Name(string hint)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    public string Initializer(string hint, Tensor value)
    {
        string name = Name(hint);
        Model.Graph.Initializers[name] = value;
        return name;
    }

    public OnnxNode Emit(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params NodeAttribute[] attributes)
    {
        var node = new OnnxNode { OpType = opType, Name = Name(name) };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        foreach (var a in attributes) node.Attributes[a.Name] = a;
        Nodes.Add(node);
        return node;
    }

    /// <summary>Values made once per key and reused by every later node (one DynamicQuantizeLinear per activation, one weight per initializer).</summary>
    public string[] Shared(string key, Func<string[]> make)
    {
        if (!_shared.TryGetValue(key, out var values)) _shared[key] = values = make();
        return values;
    }

    public static NodeAttribute IntAttribute(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };
}
