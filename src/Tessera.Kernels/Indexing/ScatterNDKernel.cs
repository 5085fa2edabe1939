using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>ScatterND (opsets 11, 13, 16 reduction add/mul, 18 max/min): a copy of data with each addressed slice updated in order.</summary>
internal sealed class ScatterNDKernel(ScatterReduction reduction) : IKernel
{
    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        var indices = context.RequiredInput(1, "indices");
        var updates = context.RequiredInput(2, "updates");
        if (updates.DataType != data.DataType)
        {
            throw new KernelException($"ScatterND updates type {DataTypes.Name(updates.DataType)} differs from data type {DataTypes.Name(data.DataType)}");
        }

        int[] offsets = NdIndexing.SliceOffsets(data, indices, 0, "ScatterND");
        int k = indices.Shape[^1];
        int q = indices.Rank;
        bool shapeOk = updates.Rank == q - 1 + data.Rank - k
            && indices.Shape.AsSpan(0, q - 1).SequenceEqual(updates.Shape.AsSpan(0, q - 1))
            && data.Shape.AsSpan(k).SequenceEqual(updates.Shape.AsSpan(q - 1));
        if (!shapeOk)
        {
            throw new KernelException($"ScatterND updates shape {ShapeMath.Format(updates.Shape)} does not match indices {ShapeMath.Format(indices.Shape)} and data {ShapeMath.Format(data.Shape)}");
        }

        var output = context.AllocateOutput(0, data.DataType, data.Shape);
        TensorElements.Copy(data, 0, output, 0, data.Length);
        int slice = ShapeMath.Product(data.Shape, k, data.Rank);
        if (reduction == ScatterReduction.None)
        {
            for (int t = 0; t < offsets.Length; t++)
            {
                TensorElements.Copy(updates, (long)t * slice, output, offsets[t], slice);
            }

            return;
        }

        switch (data.DataType)
        {
            case DataType.Float32: Reduce<float>(updates, offsets, slice, output); break;
            case DataType.Float64: Reduce<double>(updates, offsets, slice, output); break;
            case DataType.Float16: Reduce<Half>(updates, offsets, slice, output); break;
            case DataType.Int64: Reduce<long>(updates, offsets, slice, output); break;
            case DataType.Int32: Reduce<int>(updates, offsets, slice, output); break;
            case DataType.Int16: Reduce<short>(updates, offsets, slice, output); break;
            case DataType.Int8: Reduce<sbyte>(updates, offsets, slice, output); break;
            case DataType.UInt64: Reduce<ulong>(updates, offsets, slice, output); break;
            case DataType.UInt32: Reduce<uint>(updates, offsets, slice, output); break;
            case DataType.UInt16: Reduce<ushort>(updates, offsets, slice, output); break;
            case DataType.UInt8: Reduce<byte>(updates, offsets, slice, output); break;
            default: throw new KernelException($"ScatterND reduction {reduction} does not support {DataTypes.Name(data.DataType)}");
        }
    }

    private void Reduce<T>(Tensor updates, int[] offsets, int slice, Tensor output) where T : unmanaged, INumber<T>
    {
        ReadOnlySpan<T> src = updates.Span<T>();
        Span<T> dst = output.Span<T>();
        for (int t = 0; t < offsets.Length; t++)
        {
            ReadOnlySpan<T> from = src.Slice(t * slice, slice);
            Span<T> to = dst.Slice(offsets[t], slice);
            for (int i = 0; i < slice; i++)
            {
                to[i] = ScatterReductions.Combine(to[i], from[i], reduction);
            }
        }
    }
}
