using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Reduction;

/// <summary>Reads small integer control inputs (axes, axis, k) that ONNX allows as int32 or int64.</summary>
internal static class IntegerInput
{
    public static long[] ReadAll(Tensor tensor, string role)
    {
        return tensor.DataType switch
        {
            DataType.Int64 => tensor.ToArray<long>(),
            DataType.Int32 => Array.ConvertAll(tensor.ToArray<int>(), v => (long)v),
            _ => throw new KernelException($"{role} must be int32 or int64, not {DataTypes.Name(tensor.DataType)}"),
        };
    }

    /// <summary>A single value given as a scalar or a one-element 1-D tensor.</summary>
    public static long ReadScalar(Tensor tensor, string role)
    {
        if (tensor.Length != 1 || tensor.Rank > 1)
        {
            throw new KernelException($"{role} must hold exactly one value, got shape {ShapeMath.Format(tensor.Shape)}");
        }

        return ReadAll(tensor, role)[0];
    }

    public static int NormalizeAxis(long axis, int rank, string op)
    {
        long normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
        {
            throw new KernelException($"{op}: axis {axis} is out of range for rank {rank}");
        }

        return (int)normalized;
    }
}
