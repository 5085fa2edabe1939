using Tessera.Tensors;

namespace Tessera.Onnx.Graph;

/// <summary>
/// A computation graph: nodes over named values, with initializers (constant tensors) and declared inputs
/// and outputs. <see cref="Inputs"/> holds only the values a caller must or may feed; initializers that old
/// exporters also listed as inputs are kept in <see cref="Initializers"/> and flagged overridable.
/// </summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = string.Empty;

    public List<OnnxNode> Nodes { get; init; } = [];

    public Dictionary<string, Tensor> Initializers { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Initializers that were also declared as graph inputs (a caller may feed them to replace the default).</summary>
    public HashSet<string> OverridableInitializers { get; init; } = new(StringComparer.Ordinal);

    public List<ValueInfo> Inputs { get; init; } = [];

    public List<ValueInfo> Outputs { get; init; } = [];

    /// <summary>Declared types of intermediate values (and, after shape inference, inferred ones).</summary>
    public Dictionary<string, ValueInfo> ValueInfos { get; init; } = new(StringComparer.Ordinal);

    public string DocString { get; set; } = string.Empty;

    /// <summary>Elements in all constant tensors: initializers and the values of Constant nodes (some exporters store weights there).</summary>
    public long ParameterCount => ConstantTensors().Sum(t => (long)t.Length);

    public long ParameterBytes => ConstantTensors().Sum(t => (long)t.ByteLength);

    public IEnumerable<Tensor> ConstantTensors() => Initializers.Values.Concat(
        Nodes.Where(n => n.OpType == "Constant" && n.Domain.Length == 0)
            .Select(n => n.Attributes.GetValueOrDefault("value")?.Tensor)
            .OfType<Tensor>());

    /// <summary>The declared or inferred type of a value, if any.</summary>
    public ValueInfo? FindValueInfo(string name)
    {
        foreach (var v in Inputs) if (v.Name == name) return v;
        foreach (var v in Outputs) if (v.Name == name) return v;
        return ValueInfos.GetValueOrDefault(name);
    }
}
