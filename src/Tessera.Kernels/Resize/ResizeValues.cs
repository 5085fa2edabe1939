using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>Converts numeric tensors to and from double for the interpolating paths; integers round and saturate.</summary>
internal static class ResizeValues
{
    /// <summary>Widens <paramref name="tensor"/> into <paramref name="values"/> (as long as the tensor).</summary>
    public static void ToDoubles(Tensor tensor, Span<double> values)
    {
        switch (tensor.DataType)
        {
            case DataType.Float32: Widen(tensor.Span<float>(), values); break;
            case DataType.Float64: tensor.Span<double>().CopyTo(values); break;
            case DataType.Float16: Widen(tensor.Span<Half>(), values); break;
            case DataType.Int64: Widen(tensor.Span<long>(), values); break;
            case DataType.Int32: Widen(tensor.Span<int>(), values); break;
            case DataType.Int16: Widen(tensor.Span<short>(), values); break;
            case DataType.Int8: Widen(tensor.Span<sbyte>(), values); break;
            case DataType.UInt64: Widen(tensor.Span<ulong>(), values); break;
            case DataType.UInt32: Widen(tensor.Span<uint>(), values); break;
            case DataType.UInt16: Widen(tensor.Span<ushort>(), values); break;
            case DataType.UInt8: Widen(tensor.Span<byte>(), values); break;
            case DataType.BFloat16:
                var bf = tensor.Span<BFloat16>();
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)bf[i];
                }

                break;
            default: throw new KernelException($"Resize does not interpolate {DataTypes.Name(tensor.DataType)}");
        }
    }

    public static void FromDoubles(ReadOnlySpan<double> values, Tensor tensor)
    {
        switch (tensor.DataType)
        {
            case DataType.Float32: Narrow(values, tensor.Span<float>(), false); break;
            case DataType.Float64: values.CopyTo(tensor.Span<double>()); break;
            case DataType.Float16: Narrow(values, tensor.Span<Half>(), false); break;
            case DataType.Int64: Narrow(values, tensor.Span<long>(), true); break;
            case DataType.Int32: Narrow(values, tensor.Span<int>(), true); break;
            case DataType.Int16: Narrow(values, tensor.Span<short>(), true); break;
            case DataType.Int8: Narrow(values, tensor.Span<sbyte>(), true); break;
            case DataType.UInt64: Narrow(values, tensor.Span<ulong>(), true); break;
            case DataType.UInt32: Narrow(values, tensor.Span<uint>(), true); break;
            case DataType.UInt16: Narrow(values, tensor.Span<ushort>(), true); break;
            case DataType.UInt8: Narrow(values, tensor.Span<byte>(), true); break;
            case DataType.BFloat16:
                var bf = tensor.Span<BFloat16>();
                for (int i = 0; i < values.Length; i++)
                {
                    bf[i] = (BFloat16)(float)values[i];
                }

                break;
            default: throw new KernelException($"Resize does not interpolate {DataTypes.Name(tensor.DataType)}");
        }
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<double> values) where T : System.Numerics.INumberBase<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = double.CreateTruncating(source[i]);
        }
    }

    private static void Narrow<T>(ReadOnlySpan<double> values, Span<T> target, bool integer) where T : System.Numerics.INumberBase<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            target[i] = T.CreateSaturating(integer ? Math.Round(values[i]) : values[i]);
        }
    }
}
