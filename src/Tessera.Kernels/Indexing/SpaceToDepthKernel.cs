using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>SpaceToDepth (opsets 1, 13): moves each spatial b×b tile into channels (DCR order).</summary>
internal sealed class SpaceToDepthKernel(int block) : IKernel
{
    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        if (input.Rank != 4)
        {
            throw new KernelException($"SpaceToDepth needs a rank-4 input, not {ShapeMath.Format(input.Shape)}");
        }

        int[] s = input.Shape;
        if (block < 1 || s[2] % block != 0 || s[3] % block != 0)
        {
            throw new KernelException($"SpaceToDepth spatial size {s[2]}x{s[3]} is not divisible by blocksize {block}");
        }

        int[] depthShape = [s[0], s[1] * block * block, s[2] / block, s[3] / block];
        var output = context.AllocateOutput(0, input.DataType, depthShape);
        BlockShuffle.Run(input, output, depthShape, block, columnFirst: false, toSpace: false);
    }
}
