using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>Shape checks shared by GatherElements and ScatterElements.</summary>
internal static class ElementwiseIndexing
{
    /// <summary>Checks ranks and extents and returns the normalized axis.</summary>
    public static int Validate(Tensor data, Tensor indices, Tensor? updates, long axis, string op)
    {
        int rank = data.Rank;
        if (rank == 0)
        {
            throw new KernelException($"{op} needs data of rank 1 or more");
        }

        if (indices.Rank != rank)
        {
            throw new KernelException($"{op} indices rank {indices.Rank} differs from data rank {rank}");
        }

        if (updates is not null && !ShapeMath.SameShape(updates.Shape, indices.Shape))
        {
            throw new KernelException($"{op} updates shape {ShapeMath.Format(updates.Shape)} differs from indices shape {ShapeMath.Format(indices.Shape)}");
        }

        if (updates is not null && updates.DataType != data.DataType)
        {
            throw new KernelException($"{op} updates type {DataTypes.Name(updates.DataType)} differs from data type {DataTypes.Name(data.DataType)}");
        }

        int a = IndexValues.Axis(axis, rank, op);
        for (int d = 0; d < rank; d++)
        {
            if (d != a && indices.Shape[d] > data.Shape[d])
            {
                throw new KernelException($"{op} indices shape {ShapeMath.Format(indices.Shape)} exceeds data shape {ShapeMath.Format(data.Shape)} in dimension {d}");
            }
        }

        return a;
    }
}
