using Tessera.Tensors;

namespace Tessera.Onnx.Graph;

/// <summary>One attribute of a node. Exactly the field matching <see cref="Kind"/> is meaningful.</summary>
public sealed class NodeAttribute
{
    public required string Name { get; init; }

    public required AttributeKind Kind { get; init; }

    public float Float { get; init; }

    public long Int { get; init; }

    /// <summary>String attributes as UTF-8 text (ONNX stores bytes; every standard operator uses text).</summary>
    public string String { get; init; } = string.Empty;

    public Tensor? Tensor { get; init; }

    public OnnxGraph? Graph { get; init; }

    public float[] Floats { get; init; } = [];

    public long[] Ints { get; init; } = [];

    public string[] Strings { get; init; } = [];

    public Tensor[] Tensors { get; init; } = [];

    public OnnxGraph[] Graphs { get; init; } = [];

    public override string ToString() => Kind switch
    {
        AttributeKind.Float => $"{Name}={Float}",
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.String => $"{Name}='{String}'",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        _ => $"{Name}:{Kind}",
    };
}
