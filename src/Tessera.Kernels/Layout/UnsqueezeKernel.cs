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
        Span<long> scratch = stackalloc long[8];
        ReadOnlySpan<long> axes = axesAttribute ?? IntList.Values(context.RequiredInput(1, "axes"), "Unsqueeze axes", scratch);
        int rank = data.Rank + axes.Length;
        Span<int> positions = axes.Length <= 16 ? stackalloc int[axes.Length] : new int[axes.Length];
        IntList.AxesInto(axes, rank, "Unsqueeze", positions);
        Span<int> shape = rank <= 16 ? stackalloc int[rank] : new int[rank];
        shape.Clear();
        foreach (int k in positions)
        {
            shape[k] = -1; // a unit axis goes here
        }

        for (int k = 0, next = 0; k < rank; k++)
        {
            shape[k] = shape[k] == -1 ? 1 : data.Shape[next++];
        }

        context.SetOutputView(0, data, 0, shape);
    }
}
