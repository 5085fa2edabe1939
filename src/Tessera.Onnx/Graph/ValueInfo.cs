using Tessera.Tensors;

namespace Tessera.Onnx.Graph;

/// <summary>Declared type of a value: element type and shape. A null <see cref="Shape"/> means the rank is unknown.</summary>
public sealed class ValueInfo
{
    public required string Name { get; init; }

    public DataType ElementType { get; set; }

    public Dimension[]? Shape { get; set; }

    public string DocString { get; set; } = string.Empty;

    /// <summary>Null for a tensor; otherwise the kind of non-tensor value ("sequence", "map", "optional", "sparse tensor").</summary>
    public string? NonTensorKind { get; set; }

    public bool HasFullyKnownShape => Shape is not null && Shape.All(d => d.IsKnown);

    public string FormatShape() => Shape is null ? "?" : "[" + string.Join(",", Shape.Select(d => d.ToString())) + "]";

    public override string ToString() => $"{Name}: {DataTypes.Name(ElementType)}{FormatShape()}";
}
