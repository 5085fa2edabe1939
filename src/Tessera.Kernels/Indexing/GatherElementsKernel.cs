using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>GatherElements (opsets 11, 13): output[p] = data[p with its axis coordinate replaced by indices[p]].</summary>
internal sealed class GatherElementsKernel(long axis) : IKernel
{
    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        var indices = context.RequiredInput(1, "indices");
        int a = ElementwiseIndexing.Validate(data, indices, null, axis, "GatherElements");
        int[] idx = IndexValues.Normalize(indices, data.Shape[a], "GatherElements");
        var output = context.AllocateOutput(0, data.DataType, indices.Shape);
        if (output.Length == 0)
        {
            return;
        }

        switch (TensorElements.KindOf(data.DataType))
        {
            case ElementKind.Size1: Run<byte>(data, indices.Shape, idx, output, a); break;
            case ElementKind.Size2: Run<ushort>(data, indices.Shape, idx, output, a); break;
            case ElementKind.Size4: Run<uint>(data, indices.Shape, idx, output, a); break;
            case ElementKind.Size8: Run<ulong>(data, indices.Shape, idx, output, a); break;
            default: Run<string>(data, indices.Shape, idx, output, a); break;
        }
    }

    private static void Run<T>(Tensor data, int[] shape, int[] idx, Tensor output, int axis)
    {
        ReadOnlySpan<T> src = TensorElements.As<T>(data);
        Span<T> dst = TensorElements.As<T>(output);
        int[] strides = ShapeMath.Strides(data.Shape);
        int axisStride = strides[axis];
        var cursor = new AxisCursor(shape, strides, axis);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = src[cursor.Base + idx[i] * axisStride];
            cursor.Next();
        }
    }
}
