using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>DepthToSpace (opsets 1, 11 mode DCR/CRD, 13): moves channel blocks into spatial b×b tiles.</summary>
internal sealed class DepthToSpaceKernel(int block, bool columnFirst) : IKernel
{
    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        if (input.Rank != 4)
        {
            throw new KernelException($"DepthToSpace needs a rank-4 input, not {ShapeMath.Format(input.Shape)}");
        }

        int[] s = input.Shape;
        if (block < 1 || s[1] % (block * block) != 0)
        {
            throw new KernelException($"DepthToSpace channels {s[1]} are not divisible by blocksize {block} squared");
        }

        var output = context.AllocateOutput(0, input.DataType, [s[0], s[1] / (block * block), s[2] * block, s[3] * block]);
        BlockShuffle.Run(input, output, s, block, columnFirst, toSpace: true);
    }
}
