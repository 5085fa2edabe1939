using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// ScatterElements (opsets 11, 13, 16 reduction add/mul, 18 max/min): a copy of data where each update lands at
/// its position with the axis coordinate replaced by the index, in order, so later duplicates win or accumulate.
/// </summary>
internal sealed class ScatterElementsKernel(long axis, ScatterReduction reduction) : IKernel
{
    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        var indices = context.RequiredInput(1, "indices");
        var updates = context.RequiredInput(2, "updates");
        int a = ElementwiseIndexing.Validate(data, indices, updates, axis, "ScatterElements");
        int[] idx = IndexValues.Normalize(indices, data.Shape[a], "ScatterElements");
        var output = context.AllocateOutput(0, data.DataType, data.Shape);
        TensorElements.Copy(data, 0, output, 0, data.Length);
        if (idx.Length == 0)
        {
            return;
        }

        if (reduction == ScatterReduction.None)
        {
            switch (TensorElements.KindOf(data.DataType))
            {
                case ElementKind.Size1: Assign<byte>(updates, idx, output, a); break;
                case ElementKind.Size2: Assign<ushort>(updates, idx, output, a); break;
                case ElementKind.Size4: Assign<uint>(updates, idx, output, a); break;
                case ElementKind.Size8: Assign<ulong>(updates, idx, output, a); break;
                default: Assign<string>(updates, idx, output, a); break;
            }

            return;
        }

        switch (data.DataType)
        {
            case DataType.Float32: Reduce<float>(updates, idx, output, a); break;
            case DataType.Float64: Reduce<double>(updates, idx, output, a); break;
            case DataType.Float16: Reduce<Half>(updates, idx, output, a); break;
            case DataType.Int64: Reduce<long>(updates, idx, output, a); break;
            case DataType.Int32: Reduce<int>(updates, idx, output, a); break;
            case DataType.Int16: Reduce<short>(updates, idx, output, a); break;
            case DataType.Int8: Reduce<sbyte>(updates, idx, output, a); break;
            case DataType.UInt64: Reduce<ulong>(updates, idx, output, a); break;
            case DataType.UInt32: Reduce<uint>(updates, idx, output, a); break;
            case DataType.UInt16: Reduce<ushort>(updates, idx, output, a); break;
            case DataType.UInt8: Reduce<byte>(updates, idx, output, a); break;
            default: throw new KernelException($"ScatterElements reduction {reduction} does not support {DataTypes.Name(data.DataType)}");
        }
    }

    private static void Assign<T>(Tensor updates, int[] idx, Tensor output, int axis)
    {
        ReadOnlySpan<T> src = TensorElements.As<T>(updates);
        Span<T> dst = TensorElements.As<T>(output);
        int[] strides = ShapeMath.Strides(output.Shape);
        var cursor = new AxisCursor(updates.Shape, strides, axis);
        for (int i = 0; i < src.Length; i++)
        {
            dst[cursor.Base + idx[i] * strides[axis]] = src[i];
            cursor.Next();
        }
    }

    private void Reduce<T>(Tensor updates, int[] idx, Tensor output, int axis) where T : unmanaged, INumber<T>
    {
        ReadOnlySpan<T> src = updates.Span<T>();
        Span<T> dst = output.Span<T>();
        int[] strides = ShapeMath.Strides(output.Shape);
        var cursor = new AxisCursor(updates.Shape, strides, axis);
        for (int i = 0; i < src.Length; i++)
        {
            ref T target = ref dst[cursor.Base + idx[i] * strides[axis]];
            target = ScatterReductions.Combine(target, src[i], reduction);
            cursor.Next();
        }
    }
}
