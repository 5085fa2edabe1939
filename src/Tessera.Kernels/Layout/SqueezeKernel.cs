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
        long[]? axes = axesAttribute;
        if (axesFromInput && context.Input(1) is { } axesInput)
        {
            axes = IntList.Read(axesInput, "Squeeze axes");
        }

        int rank = data.Rank;
        var drop = new bool[rank];
        if (axes is null)
        {
            for (int k = 0; k < rank; k++)
            {
                drop[k] = data.Shape[k] == 1;
            }
        }
        else
        {
            foreach (int k in IntList.Axes(axes, rank, "Squeeze"))
            {
                if (data.Shape[k] != 1)
                {
                    throw new KernelException($"Squeeze: axis {k} of shape {ShapeMath.Format(data.Shape)} is not 1");
                }

                drop[k] = true;
            }
        }

        var shape = new List<int>(rank);
        for (int k = 0; k < rank; k++)
        {
            if (!drop[k])
            {
                shape.Add(data.Shape[k]);
            }
        }

        context.SetOutput(0, data.Reshape([.. shape]));
    }
}
