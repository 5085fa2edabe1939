using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Squeeze-1/11/13: removes the given unit axes (attribute before 13, input from 13), or every unit axis. A view.</summary>
internal sealed class SqueezeKernel(long[]? axesAttribute, bool axesFromInput) : IKernel
{
    public static IKernel Create(KernelInfo info) =>
        info.OpsetVersion >= 13 ? new SqueezeKernel(null, true) : new SqueezeKernel(info.GetInts("axes"), false);

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        Span<long> scratch = stackalloc long[8];
        scoped ReadOnlySpan<long> axes = axesAttribute;
        bool all = axesAttribute is null;
        if (axesFromInput && context.Input(1) is { } axesInput)
        {
            axes = IntList.Values(axesInput, "Squeeze axes", scratch);
            all = false;
        }

        int rank = data.Rank;
        Span<bool> drop = rank <= 16 ? stackalloc bool[rank] : new bool[rank];
        drop.Clear();
        if (all)
        {
            for (int k = 0; k < rank; k++)
            {
                drop[k] = data.Shape[k] == 1;
            }
        }
        else
        {
            Span<int> positions = axes.Length <= 16 ? stackalloc int[axes.Length] : new int[axes.Length];
            IntList.AxesInto(axes, rank, "Squeeze", positions);
            foreach (int k in positions)
            {
                if (data.Shape[k] != 1)
                {
                    throw new KernelException($"Squeeze: axis {k} of shape {ShapeMath.Format(data.Shape)} is not 1");
                }

                drop[k] = true;
            }
        }

        Span<int> shape = rank <= 16 ? stackalloc int[rank] : new int[rank];
        int kept = 0;
        for (int k = 0; k < rank; k++)
        {
            if (!drop[k])
            {
                shape[kept++] = data.Shape[k];
            }
        }

        context.SetOutputView(0, data, 0, shape[..kept]);
    }
}
