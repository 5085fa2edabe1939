using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Reads the integer lists layout operators take as inputs (shapes, axes, starts, repeats, splits).</summary>
internal static class IntList
{
    /// <summary>The values of an int32 or int64 tensor of rank 0 or 1.</summary>
    public static long[] Read(Tensor tensor, string what)
    {
        if (tensor.Rank > 1)
        {
            throw new KernelException($"{what} must be a 1-D tensor, got shape {ShapeMath.Format(tensor.Shape)}");
        }

        return tensor.DataType switch
        {
            DataType.Int64 => tensor.Span<long>().ToArray(),
            DataType.Int32 => ToLongs(tensor.Span<int>()),
            _ => throw new KernelException($"{what} must be int32 or int64, got {DataTypes.Name(tensor.DataType)}"),
        };
    }

    /// <summary>
    /// The values of an int32 or int64 tensor of rank 0 or 1 without copying int64 storage; int32 values are
    /// widened into <paramref name="scratch"/> (or a new array when it is too small).
    /// </summary>
    public static ReadOnlySpan<long> Values(Tensor tensor, string what, Span<long> scratch)
    {
        if (tensor.Rank > 1)
        {
            throw new KernelException($"{what} must be a 1-D tensor, got shape {ShapeMath.Format(tensor.Shape)}");
        }

        switch (tensor.DataType)
        {
            case DataType.Int64:
                return tensor.Span<long>();
            case DataType.Int32:
                var values = tensor.Span<int>();
                var result = values.Length <= scratch.Length ? scratch[..values.Length] : new long[values.Length];
                for (int i = 0; i < values.Length; i++)
                {
                    result[i] = values[i];
                }

                return result;
            default:
                throw new KernelException($"{what} must be int32 or int64, got {DataTypes.Name(tensor.DataType)}");
        }
    }

    /// <summary>The one value of an int32 or int64 tensor holding a single element.</summary>
    public static long ReadScalar(Tensor tensor, string what)
    {
        if (tensor.Length != 1)
        {
            throw new KernelException($"{what} must hold one value, got shape {ShapeMath.Format(tensor.Shape)}");
        }

        return Read(tensor.Rank == 0 ? tensor : tensor.Reshape([1]), what)[0];
    }

    private static long[] ToLongs(ReadOnlySpan<int> values)
    {
        var result = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    /// <summary>Normalises possibly negative axes against <paramref name="rank"/>, rejecting out-of-range and repeated ones.</summary>
    public static int[] Axes(ReadOnlySpan<long> axes, int rank, string op)
    {
        var result = new int[axes.Length];
        AxesInto(axes, rank, op, result);
        return result;
    }

    /// <summary>Same as <see cref="Axes"/>, into <paramref name="result"/> (as long as <paramref name="axes"/>).</summary>
    public static void AxesInto(ReadOnlySpan<long> axes, int rank, string op, Span<int> result)
    {
        for (int i = 0; i < axes.Length; i++)
        {
            long a = axes[i] < 0 ? axes[i] + rank : axes[i];
            if (a < 0 || a >= rank)
            {
                throw new KernelException($"{op}: axis {axes[i]} is out of range for rank {rank}");
            }

            result[i] = (int)a;
            for (int j = 0; j < i; j++)
            {
                if (result[j] == result[i])
                {
                    throw new KernelException($"{op}: axis {axes[i]} is repeated");
                }
            }
        }

    }

    /// <summary>Normalises one possibly negative axis into [0, rank).</summary>
    public static int Axis(long axis, int rank, string op)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw new KernelException($"{op}: axis {axis} is out of range for rank {rank}");
        }

        return (int)a;
    }

    /// <summary>Converts a dimension to int, rejecting values Tessera cannot store.</summary>
    public static int Dim(long value, string op)
    {
        if (value < 0 || value > int.MaxValue)
        {
            throw new KernelException($"{op}: dimension {value} is invalid");
        }

        return (int)value;
    }
}
