using System.Numerics.Tensors;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Reduction;

/// <summary>
/// 16-bit floats are computed in float32: their own arithmetic would lose precision in long accumulations,
/// and ONNX Runtime accumulates them in float as well.
/// </summary>
internal static class HalfBridge
{
    public static bool Applies(DataType type) => type is DataType.Float16 or DataType.BFloat16;

    public static Tensor ToSingle(Tensor source)
    {
        var result = Tensor.Allocate(DataType.Float32, source.Shape);
        var dst = result.Span<float>();
        if (source.DataType == DataType.Float16)
        {
            TensorPrimitives.ConvertToSingle(source.Span<Half>(), dst);
        }
        else
        {
            var src = source.Span<BFloat16>();
            for (int i = 0; i < src.Length; i++)
            {
                dst[i] = src[i].ToSingle();
            }
        }

        return result;
    }

    /// <summary>Converts float32 <paramref name="source"/> into <paramref name="destination"/> (same element count).</summary>
    public static void FromSingle(Tensor source, Tensor destination)
    {
        var src = source.Span<float>();
        if (destination.DataType == DataType.Float16)
        {
            TensorPrimitives.ConvertToHalf(src, destination.Span<Half>());
        }
        else
        {
            var dst = destination.Span<BFloat16>();
            for (int i = 0; i < src.Length; i++)
            {
                dst[i] = BFloat16.FromSingle(src[i]);
            }
        }
    }
}
