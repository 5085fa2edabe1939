using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Unsqueeze-1/11/13: inserts unit axes at positions of the output (attribute before 13, input from 13). A view.</summary>
internal sealed class UnsqueezeKernel(long[]? axesAttribute) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        if (info.OpsetVersion >= 13)
        {
            return new UnsqueezeKernel(null);
        }

        return new UnsqueezeKernel(info.GetInts("axes") ?? throw new KernelException("Unsqueeze needs attribute 'axes'"));
    }

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        long[] axes = axesAttribute ?? IntList.Read(context.RequiredInput(1, "axes"), "Unsqueeze axes");
        int rank = data.Rank + axes.Length;
        var insert = new bool[rank];
        foreach (int k in IntList.Axes(axes, rank, "Unsqueeze"))
        {
            insert[k] = true;
        }

        var shape = new int[rank];
        for (int k = 0, next = 0; k < rank; k++)
        {
            shape[k] = insert[k] ? 1 : data.Shape[next++];
        }

        context.SetOutput(0, data.Reshape(shape));
    }
}
