using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>Name, element type and shape of a model input or output; -1 marks a dimension fixed only at run time.</summary>
internal sealed record TensorSignature(string Name, DataType DataType, long[]? Shape)
{
    public static TensorSignature From(ValueInfo value) =>
        new(value.Name, value.ElementType, value.Shape?.Select(d => d.Value ?? -1).ToArray());

    /// <summary>Shape as the protocol spells it: unknown rank is written as a single dynamic dimension.</summary>
    public long[] WireShape => Shape ?? [-1];

    public string FormatShape() => Shape is null ? "[?]" : "[" + string.Join(",", Shape) + "]";

    public bool Accepts(ReadOnlySpan<int> shape)
    {
        if (Shape is null)
        {
            return true;
        }

        if (Shape.Length != shape.Length)
        {
            return false;
        }

        for (int i = 0; i < shape.Length; i++)
        {
            if (Shape[i] >= 0 && Shape[i] != shape[i])
            {
                return false;
            }
        }

        return true;
    }
}
