using System.Numerics.Tensors;
using Tensor = Tessera.Tensors.Tensor;
using Tessera.Tensors;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Half-precision operands (float16, bfloat16) are widened to float32, computed with the SGEMM, and narrowed back,
/// which is both faster and more accurate than accumulating in 16 bits. Convolutions stage float64 the same way
/// (float32 accumulation: a documented precision trade-off for a rarely used type).
/// </summary>
internal static class FloatStaging
{
    public static bool IsStaged(DataType type) => type is DataType.Float16 or DataType.BFloat16 or DataType.Float64;

    public static Tensor? Widen(Tensor? tensor)
    {
        if (tensor is null || tensor.DataType == DataType.Float32)
        {
            return tensor;
        }

        var wide = Tensor.Allocate(DataType.Float32, tensor.Shape);
        var dst = wide.Span<float>();
        switch (tensor.DataType)
        {
            case DataType.Float16:
                TensorPrimitives.ConvertToSingle(tensor.Span<Half>(), dst);
                break;
            case DataType.Float64:
                var doubles = tensor.Span<double>();
                for (int i = 0; i < doubles.Length; i++)
                {
                    dst[i] = (float)doubles[i];
                }

                break;
            case DataType.BFloat16:
                var src = tensor.Span<BFloat16>();
                for (int i = 0; i < src.Length; i++)
                {
                    dst[i] = src[i].ToSingle();
                }

                break;
            default:
                throw new InvalidOperationException($"{DataTypes.Name(tensor.DataType)} is not staged through float32");
        }

        return wide;
    }

    public static void Narrow(Tensor wide, Tensor destination)
    {
        var src = wide.Span<float>();
        switch (destination.DataType)
        {
            case DataType.Float16:
                TensorPrimitives.ConvertToHalf(src, destination.Span<Half>());
                break;
            case DataType.Float64:
                var doubles = destination.Span<double>();
                for (int i = 0; i < src.Length; i++)
                {
                    doubles[i] = src[i];
                }

                break;
            case DataType.BFloat16:
                var dst = destination.Span<BFloat16>();
                for (int i = 0; i < src.Length; i++)
                {
                    dst[i] = BFloat16.FromSingle(src[i]);
                }

                break;
            default:
                throw new InvalidOperationException($"{DataTypes.Name(destination.DataType)} is not staged through float32");
        }
    }
}
