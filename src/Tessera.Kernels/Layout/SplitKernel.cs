using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Split-1/2/11/13/18: split sizes from the 'split' attribute (before 13) or input (1 and 13+), from
/// 'num_outputs' (18, last chunk smaller), or equal parts. Parts that are contiguous in the input are views.
/// </summary>
internal sealed class SplitKernel(long axis, long[]? splitAttribute, long numOutputs, int opset, int outputCount) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        long[]? split = info.OpsetVersion < 13 ? info.GetInts("split") : null;
        long numOutputs = info.OpsetVersion >= 18 ? info.GetInt("num_outputs", 0) : 0;
        if (numOutputs != 0 && numOutputs != info.OutputCount)
        {
            throw new KernelException($"Split: num_outputs is {numOutputs} but the node has {info.OutputCount} outputs");
        }

        return new SplitKernel(info.GetInt("axis", 0), split, numOutputs, info.OpsetVersion, info.OutputCount);
    }

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "input");
        int ax = IntList.Axis(axis, data.Rank, "Split");
        int dim = data.Shape[ax];
        long[]? split = splitAttribute;
        if (split is null && (opset < 2 || opset >= 13) && context.Input(1) is { } splitInput)
        {
            split = IntList.Read(splitInput, "Split split");
        }

        int[] sizes = split is not null ? Explicit(split, dim) : Equal(dim);
        var first = new int[data.Rank];
        var count = (int[])data.Shape.Clone();
        var step = new int[data.Rank];
        Array.Fill(step, 1);
        int start = 0;
        for (int k = 0; k < outputCount; k++)
        {
            if (context.IsOutputRequested(k))
            {
                first[ax] = start;
                count[ax] = sizes[k];
                SliceKernel.Extract(context, k, data, first, (int[])count.Clone(), step);
            }

            start += sizes[k];
        }
    }

    private int[] Explicit(long[] split, int dim)
    {
        if (split.Length != outputCount)
        {
            throw new KernelException($"Split: split has {split.Length} entries for {outputCount} outputs");
        }

        var sizes = new int[split.Length];
        long sum = 0;
        for (int k = 0; k < split.Length; k++)
        {
            if (split[k] < 0)
            {
                throw new KernelException($"Split: split size {split[k]} is negative");
            }

            sum += split[k];
            sizes[k] = (int)Math.Min(split[k], int.MaxValue);
        }

        return sum == dim ? sizes : throw new KernelException($"Split: split sizes sum to {sum} but the axis has {dim} elements");
    }

    private int[] Equal(int dim)
    {
        var sizes = new int[outputCount];
        if (dim % outputCount != 0 && numOutputs == 0 && opset < 18)
        {
            throw new KernelException($"Split: an axis of {dim} elements cannot be split into {outputCount} equal parts");
        }

        int chunk = (dim + outputCount - 1) / outputCount;
        int left = dim;
        for (int k = 0; k < outputCount; k++)
        {
            sizes[k] = Math.Min(chunk, left);
            left -= sizes[k];
        }

        return sizes;
    }
}
