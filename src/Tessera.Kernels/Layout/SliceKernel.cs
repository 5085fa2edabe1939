using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Slice-1 (starts/ends/axes attributes) and Slice-10/11/13 (inputs, with steps). Contiguous results are views;
/// others copy contiguous runs.
/// </summary>
internal sealed class SliceKernel : IKernel
{
    private readonly long[]? _starts;
    private readonly long[]? _ends;
    private readonly long[]? _axes;

    private SliceKernel(long[]? starts, long[]? ends, long[]? axes)
    {
        _starts = starts;
        _ends = ends;
        _axes = axes;
    }

    public static IKernel Create(KernelInfo info)
    {
        if (info.OpsetVersion >= 10)
        {
            return new SliceKernel(null, null, null);
        }

        var starts = info.GetInts("starts") ?? throw new KernelException("Slice needs attribute 'starts'");
        var ends = info.GetInts("ends") ?? throw new KernelException("Slice needs attribute 'ends'");
        return new SliceKernel(starts, ends, info.GetInts("axes"));
    }

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        long[] starts, ends;
        long[]? axes, steps = null;
        if (_starts is not null)
        {
            (starts, ends, axes) = (_starts, _ends!, _axes);
        }
        else
        {
            starts = IntList.Read(context.RequiredInput(1, "starts"), "Slice starts");
            ends = IntList.Read(context.RequiredInput(2, "ends"), "Slice ends");
            axes = context.Input(3) is { } a ? IntList.Read(a, "Slice axes") : null;
            steps = context.Input(4) is { } s ? IntList.Read(s, "Slice steps") : null;
        }

        int rank = data.Rank;
        if (ends.Length != starts.Length || (axes is not null && axes.Length != starts.Length) || (steps is not null && steps.Length != starts.Length))
        {
            throw new KernelException($"Slice: starts, ends, axes and steps must have the same length, got {starts.Length}, {ends.Length}, {axes?.Length}, {steps?.Length}");
        }

        int[] axisOf = axes is null ? DefaultAxes(starts.Length, rank) : IntList.Axes(axes, rank, "Slice");
        var first = new int[rank];
        var count = (int[])data.Shape.Clone();
        var step = new int[rank];
        Array.Fill(step, 1);
        for (int i = 0; i < axisOf.Length; i++)
        {
            int axis = axisOf[i];
            long st = steps is null ? 1 : steps[i];
            if (st == 0)
            {
                throw new KernelException("Slice: steps must not be 0");
            }

            (first[axis], count[axis], step[axis]) = Resolve(starts[i], ends[i], st, data.Shape[axis]);
        }

        Extract(context, 0, data, first, count, step);
    }

    private static int[] DefaultAxes(int length, int rank)
    {
        if (length > rank)
        {
            throw new KernelException($"Slice: {length} starts for an input of rank {rank}");
        }

        var axes = new int[length];
        for (int i = 0; i < length; i++)
        {
            axes[i] = i;
        }

        return axes;
    }

    /// <summary>Clamps one axis's start/end as the spec prescribes (INT64 min/max work as "from the edge") and counts the elements.</summary>
    internal static (int First, int Count, int Step) Resolve(long start, long end, long step, int dim)
    {
        // |step| >= dim yields at most one element, so clamping it keeps the count right and the arithmetic in range.
        step = Math.Clamp(step, -(long)int.MaxValue, int.MaxValue);
        if (dim == 0)
        {
            return (0, 0, 1);
        }

        if (start < 0) start += dim;
        if (end < 0) end += dim;
        long count;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            count = end > start ? (end - start + step - 1) / step : 0;
        }
        else
        {
            start = Math.Clamp(start, 0, dim - 1);
            end = Math.Clamp(end, -1, dim - 1);
            count = start > end ? (start - end - step - 1) / -step : 0;
        }

        return ((int)(count == 0 ? 0 : start), (int)count, count <= 1 ? 1 : (int)step);
    }

    /// <summary>Produces output <paramref name="index"/> = data[first + i·step] per axis, as a view when contiguous.</summary>
    internal static void Extract(KernelContext context, int index, Tensor data, int[] first, int[] count, int[] step)
    {
        int[] strides = ShapeMath.Strides(data.Shape);
        long offset = 0;
        var steps = new int[data.Rank];
        for (int k = 0; k < data.Rank; k++)
        {
            offset += (long)first[k] * strides[k];
            steps[k] = strides[k] * step[k];
        }

        ViewOrCopy.Produce(context, index, data, (int)offset, count, steps);
    }
}
