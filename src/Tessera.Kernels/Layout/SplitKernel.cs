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
        scoped ReadOnlySpan<long> split = splitAttribute;
        bool explicitSizes = splitAttribute is not null;
        Span<long> splitScratch = stackalloc long[8];
        if (!explicitSizes && (opset < 2 || opset >= 13) && context.Input(1) is { } splitInput)
        {
            split = IntList.Values(splitInput, "Split split", splitScratch);
            explicitSizes = true;
        }

        Span<int> sizes = outputCount <= 16 ? stackalloc int[outputCount] : new int[outputCount];
        if (explicitSizes)
        {
            Explicit(split, dim, sizes);
        }
        else
        {
            Equal(dim, sizes);
        }

        Span<int> first = stackalloc int[data.Rank];
        Span<int> count = stackalloc int[data.Rank];
        Span<int> step = stackalloc int[data.Rank];
        first.Clear();
        data.Shape.CopyTo(count);
        step.Fill(1);
        int start = 0;
        for (int k = 0; k < outputCount; k++)
        {
            if (context.IsOutputRequested(k))
            {
                first[ax] = start;
                count[ax] = sizes[k];
                SliceKernel.Extract(context, k, data, first, count, step);
            }

            start += sizes[k];
        }
    }

    private void Explicit(ReadOnlySpan<long> split, int dim, Span<int> sizes)
    {
        if (split.Length != outputCount)
        {
            throw new KernelException($"Split: split has {split.Length} entries for {outputCount} outputs");
        }

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

        if (sum != dim)
        {
            throw new KernelException($"Split: split sizes sum to {sum} but the axis has {dim} elements");
        }
    }

    private void Equal(int dim, Span<int> sizes)
    {
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
    }
}
