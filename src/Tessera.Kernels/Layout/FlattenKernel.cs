using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Flatten-1/9/11/13: a 2-D view [prod(d[..axis]), prod(d[axis..])]; negative axes from opset 11.</summary>
internal sealed class FlattenKernel(long axis, bool allowNegative) : IKernel
{
    public static IKernel Create(KernelInfo info) => new FlattenKernel(info.GetInt("axis", 1), info.OpsetVersion >= 11);

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        int rank = input.Rank;
        long a = axis < 0 && allowNegative ? axis + rank : axis;
        if (a < 0 || a > rank)
        {
            throw new KernelException($"Flatten: axis {axis} is out of range for rank {rank}");
        }

        int outer = ShapeMath.Product(input.Shape, 0, (int)a);
        int inner = ShapeMath.Product(input.Shape, (int)a, rank);
        context.SetOutputView(0, input, 0, [outer, inner]);
    }
}
