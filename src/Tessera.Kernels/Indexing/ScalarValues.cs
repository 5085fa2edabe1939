using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>Reads single values of any numeric tensor and builds one-element tensors of any type from a number.</summary>
internal static class ScalarValues
{
    public static double ReadDouble(Tensor tensor, int position) => tensor.DataType switch
    {
        DataType.Float32 => tensor.Span<float>()[position],
        DataType.Float64 => tensor.Span<double>()[position],
        DataType.Float16 => (double)tensor.Span<Half>()[position],
        DataType.BFloat16 => (float)tensor.Span<BFloat16>()[position],
        DataType.Int64 => tensor.Span<long>()[position],
        DataType.Int32 => tensor.Span<int>()[position],
        DataType.Int16 => tensor.Span<short>()[position],
        DataType.Int8 => tensor.Span<sbyte>()[position],
        DataType.UInt64 => tensor.Span<ulong>()[position],
        DataType.UInt32 => tensor.Span<uint>()[position],
        DataType.UInt16 => tensor.Span<ushort>()[position],
        DataType.UInt8 or DataType.Bool => tensor.Span<byte>()[position],
        _ => throw new KernelException($"expected a numeric tensor, not {DataTypes.Name(tensor.DataType)}"),
    };

    public static long ReadInt64(Tensor tensor, int position) => tensor.DataType switch
    {
        DataType.Int64 => tensor.Span<long>()[position],
        DataType.Int32 => tensor.Span<int>()[position],
        DataType.UInt64 => (long)tensor.Span<ulong>()[position],
        _ => (long)ReadDouble(tensor, position),
    };

    /// <summary>A rank-0 tensor of <paramref name="type"/> holding <paramref name="value"/> (integers saturate).</summary>
    public static Tensor Make(DataType type, double value) => type switch
    {
        DataType.Float32 => Tensor.Scalar((float)value),
        DataType.Float64 => Tensor.Scalar(value),
        DataType.Float16 => Tensor.Scalar((Half)value),
        DataType.BFloat16 => Tensor.Scalar((BFloat16)(float)value),
        DataType.Int64 => Tensor.Scalar(double.IsNaN(value) ? 0L : (long)Math.Clamp(value, long.MinValue, long.MaxValue)),
        DataType.Int32 => Tensor.Scalar((int)Saturate(value, int.MinValue, int.MaxValue)),
        DataType.Int16 => Tensor.Scalar((short)Saturate(value, short.MinValue, short.MaxValue)),
        DataType.Int8 => Tensor.Scalar((sbyte)Saturate(value, sbyte.MinValue, sbyte.MaxValue)),
        DataType.UInt64 => Tensor.Scalar(double.IsNaN(value) ? 0UL : (ulong)Math.Clamp(value, 0, ulong.MaxValue)),
        DataType.UInt32 => Tensor.Scalar((uint)Saturate(value, uint.MinValue, uint.MaxValue)),
        DataType.UInt16 => Tensor.Scalar((ushort)Saturate(value, ushort.MinValue, ushort.MaxValue)),
        DataType.UInt8 => Tensor.Scalar((byte)Saturate(value, byte.MinValue, byte.MaxValue)),
        DataType.Bool => Tensor.Scalar(value != 0),
        DataType.String => Tensor.FromStrings([string.Empty]),
        _ => throw new KernelException($"data type {DataTypes.Name(type)} is not supported"),
    };

    private static double Saturate(double value, double min, double max) => double.IsNaN(value) ? 0 : Math.Clamp(value, min, max);
}
