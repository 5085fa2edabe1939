using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>GatherND (opsets 11, 12 batch_dims, 13): copies the data slice each index tuple addresses.</summary>
internal sealed class GatherNDKernel(int batchDims) : IKernel
{
    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        var indices = context.RequiredInput(1, "indices");
        int b = batchDims;
        if (b < 0 || b >= Math.Min(data.Rank, indices.Rank))
        {
            throw new KernelException($"GatherND batch_dims {b} must be below the ranks of data ({data.Rank}) and indices ({indices.Rank})");
        }

        for (int d = 0; d < b; d++)
        {
            if (data.Shape[d] != indices.Shape[d])
            {
                throw new KernelException($"GatherND batch dimension {d} differs: data {ShapeMath.Format(data.Shape)}, indices {ShapeMath.Format(indices.Shape)}");
            }
        }

        int[] offsets = NdIndexing.SliceOffsets(data, indices, b, "GatherND");
        int k = indices.Shape[^1];
        var shape = new int[indices.Rank - 1 + data.Rank - b - k];
        indices.Shape.AsSpan(0, indices.Rank - 1).CopyTo(shape);
        data.Shape.AsSpan(b + k).CopyTo(shape.AsSpan(indices.Rank - 1));
        var output = context.AllocateOutput(0, data.DataType, shape);
        if (output.Length == 0)
        {
            return;
        }

        int slice = ShapeMath.Product(data.Shape, b + k, data.Rank);
        int batchSize = ShapeMath.Product(data.Shape, b, data.Rank);
        int perBatch = offsets.Length / Math.Max(1, ShapeMath.Product(data.Shape, 0, b));
        for (int t = 0; t < offsets.Length; t++)
        {
            long source = (long)(t / perBatch) * batchSize + offsets[t];
            TensorElements.Copy(data, source, output, (long)t * slice, slice);
        }
    }
}
