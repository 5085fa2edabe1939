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
        scoped ReadOnlySpan<long> starts, ends, axes = default, steps = default;
        bool hasAxes, hasSteps = false;
        Span<long> startScratch = stackalloc long[8], endScratch = stackalloc long[8];
        Span<long> axisScratch = stackalloc long[8], stepScratch = stackalloc long[8];
        if (_starts is not null)
        {
            starts = _starts;
            ends = _ends!;
            axes = _axes;
            hasAxes = _axes is not null;
        }
        else
        {
            starts = IntList.Values(context.RequiredInput(1, "starts"), "Slice starts", startScratch);
            ends = IntList.Values(context.RequiredInput(2, "ends"), "Slice ends", endScratch);
            hasAxes = context.Input(3) is not null;
            if (context.Input(3) is { } a)
            {
                axes = IntList.Values(a, "Slice axes", axisScratch);
            }

            hasSteps = context.Input(4) is not null;
            if (context.Input(4) is { } s)
            {
                steps = IntList.Values(s, "Slice steps", stepScratch);
            }
        }

        int rank = data.Rank;
        if (ends.Length != starts.Length || (hasAxes && axes.Length != starts.Length) || (hasSteps && steps.Length != starts.Length))
        {
            throw new KernelException($"Slice: starts, ends, axes and steps must have the same length, got {starts.Length}, {ends.Length}, {(hasAxes ? axes.Length : null)}, {(hasSteps ? steps.Length : null)}");
        }

        if (!hasAxes && starts.Length > rank)
        {
            throw new KernelException($"Slice: {starts.Length} starts for an input of rank {rank}");
        }

        Span<int> axisOf = stackalloc int[starts.Length];
        if (hasAxes)
        {
            IntList.AxesInto(axes, rank, "Slice", axisOf);
        }
        else
        {
            for (int i = 0; i < axisOf.Length; i++)
            {
                axisOf[i] = i;
            }
        }

        Span<int> first = stackalloc int[rank];
        Span<int> count = stackalloc int[rank];
        Span<int> step = stackalloc int[rank];
        first.Clear();
        data.Shape.CopyTo(count);
        step.Fill(1);
        for (int i = 0; i < axisOf.Length; i++)
        {
            int axis = axisOf[i];
            long st = hasSteps ? steps[i] : 1;
            if (st == 0)
            {
                throw new KernelException("Slice: steps must not be 0");
            }

            (first[axis], count[axis], step[axis]) = Resolve(starts[i], ends[i], st, data.Shape[axis]);
        }

        Extract(context, 0, data, first, count, step);
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
    internal static void Extract(KernelContext context, int index, Tensor data, ReadOnlySpan<int> first, ReadOnlySpan<int> count, ReadOnlySpan<int> step)
    {
        Span<int> strides = stackalloc int[data.Rank];
        StridedCopy.StridesInto(data.Shape, strides);
        long offset = 0;
        Span<int> steps = stackalloc int[data.Rank];
        for (int k = 0; k < data.Rank; k++)
        {
            offset += (long)first[k] * strides[k];
            steps[k] = strides[k] * step[k];
        }

        ViewOrCopy.Produce(context, index, data, (int)offset, count, steps);
    }
}
