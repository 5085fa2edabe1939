using System.Numerics.Tensors;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Pooling;

/// <summary>Float16 tensors are pooled and normalized in float32 (for range and accuracy) and converted back.</summary>
internal static class HalfBridge
{
    public static Tensor ToSingle(Tensor half)
    {
        var single = Tensor.Allocate(DataType.Float32, half.Shape);
        TensorPrimitives.ConvertToSingle(half.Span<Half>(), single.Span<float>());
        return single;
    }

    public static void CopyToHalf(Tensor single, Tensor half) =>
        TensorPrimitives.ConvertToHalf(single.Span<float>(), half.Span<Half>());

    /// <summary>Any floating-point tensor's values as float32 (parameters such as scale, bias, mean, variance).</summary>
    public static float[] ReadAsSingle(Tensor t)
    {
        var values = new float[t.Length];
        switch (t.DataType)
        {
            case DataType.Float32:
                t.Span<float>().CopyTo(values);
                break;
            case DataType.Float64:
                TensorPrimitives.ConvertTruncating<double, float>(t.Span<double>(), values);
                break;
            case DataType.Float16:
                TensorPrimitives.ConvertToSingle(t.Span<Half>(), values);
                break;
            default:
                throw new Core.KernelException($"expected a floating-point tensor, got {DataTypes.Name(t.DataType)}");
        }

        return values;
    }

    /// <summary>Any floating-point tensor's values as float64.</summary>
    public static double[] ReadAsDouble(Tensor t)
    {
        var values = new double[t.Length];
        switch (t.DataType)
        {
            case DataType.Float64:
                t.Span<double>().CopyTo(values);
                break;
            default:
                float[] single = ReadAsSingle(t);
                for (int i = 0; i < single.Length; i++)
                {
                    values[i] = single[i];
                }

                break;
        }

        return values;
    }
}
