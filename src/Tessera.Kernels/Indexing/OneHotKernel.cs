using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// OneHot (opsets 9, 11 negative indices): inserts a depth-sized axis holding values[1] where it equals the index
/// and values[0] elsewhere. Indices outside [-depth, depth) give an all-off row, as the spec prescribes.
/// </summary>
internal sealed class OneHotKernel(long axis) : IKernel
{
    public void Compute(KernelContext context)
    {
        var indices = context.RequiredInput(0, "indices");
        var depthTensor = context.RequiredInput(1, "depth");
        var values = context.RequiredInput(2, "values");
        if (depthTensor.Length != 1)
        {
            throw new KernelException($"OneHot depth must hold one value, not shape {ShapeMath.Format(depthTensor.Shape)}");
        }

        if (values.Length != 2)
        {
            throw new KernelException($"OneHot values must hold [off, on], not shape {ShapeMath.Format(values.Shape)}");
        }

        long depthValue = ScalarValues.ReadInt64(depthTensor, 0);
        if (depthValue < 1 || depthValue > int.MaxValue)
        {
            throw new KernelException($"OneHot depth {depthValue} must be positive");
        }

        int depth = (int)depthValue;
        int rank = indices.Rank;
        long a = axis < 0 ? axis + rank + 1 : axis;
        if (a < 0 || a > rank)
        {
            throw new KernelException($"OneHot axis {axis} is out of range for indices of rank {rank}");
        }

        var shape = new int[rank + 1];
        indices.Shape.AsSpan(0, (int)a).CopyTo(shape);
        shape[a] = depth;
        indices.Shape.AsSpan((int)a).CopyTo(shape.AsSpan((int)a + 1));
        var output = context.AllocateOutput(0, values.DataType, shape);
        int outer = ShapeMath.Product(indices.Shape, 0, (int)a);
        int inner = ShapeMath.Product(indices.Shape, (int)a, rank);
        switch (TensorElements.KindOf(values.DataType))
        {
            case ElementKind.Size1: Run<byte>(indices, values, output, outer, depth, inner); break;
            case ElementKind.Size2: Run<ushort>(indices, values, output, outer, depth, inner); break;
            case ElementKind.Size4: Run<uint>(indices, values, output, outer, depth, inner); break;
            case ElementKind.Size8: Run<ulong>(indices, values, output, outer, depth, inner); break;
            default: Run<string>(indices, values, output, outer, depth, inner); break;
        }
    }

    private static void Run<T>(Tensor indices, Tensor values, Tensor output, int outer, int depth, int inner)
    {
        Span<T> pair = TensorElements.As<T>(values);
        T off = pair[0];
        T on = pair[1];
        Span<T> dst = TensorElements.As<T>(output);
        dst.Fill(off);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                long index = ScalarValues.ReadInt64(indices, o * inner + i);
                if (index < 0)
                {
                    index += depth;
                }

                if ((ulong)index < (ulong)depth)
                {
                    dst[(o * depth + (int)index) * inner + i] = on;
                }
            }
        }
    }
}
