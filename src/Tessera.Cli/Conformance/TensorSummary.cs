using Tessera.Tensors;

namespace Tessera.Cli.Conformance;

/// <summary>Name, element type and shape of a tensor, for reports.</summary>
public sealed record TensorSummary(string Name, string ElementType, int[] Shape)
{
    public static TensorSummary Of(string name, Tensor tensor) => new(name, DataTypes.Name(tensor.DataType), tensor.Shape);

    public override string ToString() => $"{Name}: {ElementType}{ShapeMath.Format(Shape)}";
}
