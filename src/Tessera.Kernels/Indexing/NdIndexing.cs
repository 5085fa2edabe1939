using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>Turns the index tuples of GatherND/ScatterND (the last axis of indices) into element offsets into data.</summary>
internal static class NdIndexing
{
    /// <summary>
    /// For each tuple of <paramref name="indices"/>, the offset of the addressed slice of data within its batch
    /// (dimensions from <paramref name="batchDims"/> on); tuples are counted across batches in row-major order.
    /// </summary>
    public static int[] SliceOffsets(Tensor data, Tensor indices, int batchDims, string op)
    {
        IndexValues.RequireIndexType(indices, op);
        if (indices.Rank < 1)
        {
            throw new KernelException($"{op} indices must have rank 1 or more");
        }

        int k = indices.Shape[^1];
        if (k < 1 || k > data.Rank - batchDims)
        {
            throw new KernelException($"{op} index tuples of length {k} do not fit data of rank {data.Rank} with {batchDims} batch dimensions");
        }

        int[] strides = ShapeMath.Strides(data.Shape);
        int tuples = indices.Length / k;
        var offsets = new int[tuples];
        for (int t = 0; t < tuples; t++)
        {
            int offset = 0;
            for (int j = 0; j < k; j++)
            {
                int dim = data.Shape[batchDims + j];
                offset += IndexValues.Normalize(IndexValues.Read(indices, t * k + j), dim, op) * strides[batchDims + j];
            }

            offsets[t] = offset;
        }

        return offsets;
    }
}
