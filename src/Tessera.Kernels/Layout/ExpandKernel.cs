using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Expand-8/13: broadcasts the input against a shape (bidirectionally: the shape may hold 1 where the input is larger).</summary>
internal sealed class ExpandKernel : IKernel
{
    public static IKernel Create(KernelInfo info) => new ExpandKernel();

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        long[] target = IntList.Read(context.RequiredInput(1, "shape"), "Expand shape");
        int rank = Math.Max(input.Rank, target.Length);
        int[] inStrides = ShapeMath.Strides(input.Shape);
        var shape = new int[rank];
        var steps = new int[rank];
        for (int k = 0; k < rank; k++)
        {
            int ki = k - (rank - input.Rank);
            int kt = k - (rank - target.Length);
            int d = ki >= 0 ? input.Shape[ki] : 1;
            long t = kt >= 0 ? target[kt] : 1;
            if (t == d || t == 1)
            {
                shape[k] = d;
            }
            else if (d == 1)
            {
                shape[k] = IntList.Dim(t, "Expand");
            }
            else
            {
                throw new KernelException($"Expand: input shape {ShapeMath.Format(input.Shape)} cannot broadcast to [{string.Join(",", target)}]");
            }

            steps[k] = ki >= 0 && d != 1 ? inStrides[ki] : 0;
        }

        ViewOrCopy.Produce(context, 0, input, 0, shape, steps);
    }
}
