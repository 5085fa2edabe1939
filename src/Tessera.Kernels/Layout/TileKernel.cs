using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Tile-1 (tiles and axis inputs) and Tile-6/13 (repeats input). An output axis of length r·d is, in row-major
/// order, the pair of axes [r, d] with source strides [0, stride], so tiling is a strided copy of contiguous runs.
/// </summary>
internal sealed class TileKernel(bool singleAxis) : IKernel
{
    public static IKernel Create(KernelInfo info) => new TileKernel(info.OpsetVersion < 6);

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        int rank = input.Rank;
        var repeats = new long[rank];
        if (singleAxis)
        {
            Array.Fill(repeats, 1);
            long tiles = IntList.ReadScalar(context.RequiredInput(1, "tiles"), "Tile tiles");
            int axis = IntList.Axis(IntList.ReadScalar(context.RequiredInput(2, "axis"), "Tile axis"), rank, "Tile");
            repeats[axis] = tiles;
        }
        else
        {
            repeats = IntList.Read(context.RequiredInput(1, "repeats"), "Tile repeats");
            if (repeats.Length != rank)
            {
                throw new KernelException($"Tile: repeats has {repeats.Length} entries for an input of rank {rank}");
            }
        }

        int[] strides = ShapeMath.Strides(input.Shape);
        var shape = new int[rank];
        var copyShape = new int[2 * rank];
        var copySteps = new int[2 * rank];
        for (int k = 0; k < rank; k++)
        {
            int r = IntList.Dim(repeats[k], "Tile");
            shape[k] = IntList.Dim((long)r * input.Shape[k], "Tile");
            copyShape[2 * k] = r;
            copyShape[(2 * k) + 1] = input.Shape[k];
            copySteps[(2 * k) + 1] = strides[k];
        }

        ViewOrCopy.Produce(context, 0, input, 0, shape, copyShape, copySteps);
    }
}
