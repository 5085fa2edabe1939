using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>Reads int32/int64 index tensors and maps negative indices, rejecting any outside [-dim, dim).</summary>
internal static class IndexValues
{
    public static void RequireIndexType(Tensor indices, string op)
    {
        if (indices.DataType is not (DataType.Int32 or DataType.Int64))
        {
            throw new KernelException($"{op} indices must be int32 or int64, not {DataTypes.Name(indices.DataType)}");
        }
    }

    public static long Read(Tensor indices, int position) => indices.DataType == DataType.Int64
        ? indices.Span<long>()[position]
        : indices.Span<int>()[position];

    /// <summary>All indices, each checked against one dimension of size <paramref name="dim"/> and made non-negative.</summary>
    public static int[] Normalize(Tensor indices, int dim, string op)
    {
        var result = new int[indices.Length];
        NormalizeInto(indices, dim, op, result);
        return result;
    }

    /// <summary>Same as <see cref="Normalize(Tensor, int, string)"/>, into <paramref name="result"/> (of the indices' length).</summary>
    public static void NormalizeInto(Tensor indices, int dim, string op, Span<int> result)
    {
        RequireIndexType(indices, op);
        if (indices.DataType == DataType.Int64)
        {
            ReadOnlySpan<long> values = indices.Span<long>();
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = Normalize(values[i], dim, op);
            }
        }
        else
        {
            ReadOnlySpan<int> values = indices.Span<int>();
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = Normalize(values[i], dim, op);
            }
        }

    }

    public static int Normalize(long index, int dim, string op)
    {
        long normalized = index < 0 ? index + dim : index;
        if ((ulong)normalized >= (ulong)dim)
        {
            throw new KernelException($"{op} index {index} is out of range for a dimension of size {dim}");
        }

        return (int)normalized;
    }

    /// <summary>Normalizes an axis attribute, turning the shape helper's exception into a kernel error.</summary>
    public static int Axis(long axis, int rank, string op)
    {
        long normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
        {
            throw new KernelException($"{op} axis {axis} is out of range for rank {rank}");
        }

        return (int)normalized;
    }
}
