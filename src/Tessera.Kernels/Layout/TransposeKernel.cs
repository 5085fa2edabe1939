using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Transpose-1/13: permutes axes (default: reversed). Permutations that keep the storage order are views.</summary>
internal sealed class TransposeKernel(long[]? perm) : IKernel
{
    public static IKernel Create(KernelInfo info) => new TransposeKernel(info.GetInts("perm"));

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "data");
        int rank = input.Rank;
        Span<int> order = stackalloc int[rank];
        Permutation(order);
        Span<int> strides = stackalloc int[rank];
        StridedCopy.StridesInto(input.Shape, strides);
        Span<int> shape = stackalloc int[rank];
        Span<int> steps = stackalloc int[rank];
        for (int k = 0; k < rank; k++)
        {
            shape[k] = input.Shape[order[k]];
            steps[k] = strides[order[k]];
        }

        ViewOrCopy.Produce(context, 0, input, 0, shape, steps);
    }

    private void Permutation(Span<int> order)
    {
        int rank = order.Length;
        if (perm is null)
        {
            for (int k = 0; k < rank; k++)
            {
                order[k] = rank - 1 - k;
            }

            return;
        }

        if (perm.Length != rank)
        {
            throw new KernelException($"Transpose: perm has {perm.Length} entries for an input of rank {rank}");
        }

        Span<bool> seen = stackalloc bool[rank];
        for (int k = 0; k < rank; k++)
        {
            if (perm[k] < 0 || perm[k] >= rank || seen[(int)perm[k]])
            {
                throw new KernelException($"Transpose: perm [{string.Join(",", perm)}] is not a permutation of 0..{rank - 1}");
            }

            seen[(int)perm[k]] = true;
            order[k] = (int)perm[k];
        }
    }
}
