using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// Gather (opsets 1, 11, 13): picks slices of <c>data</c> along one axis. Every picked slice is contiguous
/// (the dimensions after the axis), so the kernel copies whole slices, and single elements through a typed loop.
/// </summary>
internal sealed class GatherKernel(long axis) : IKernel
{
    // Below this many output bytes threads cost more than they save.
    private const int ParallelBytes = 1 << 16;

    private int[] _indices = [];

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        var indices = context.RequiredInput(1, "indices");
        int rank = data.Rank;
        if (rank == 0)
        {
            throw new KernelException("Gather needs data of rank 1 or more");
        }

        int a = IndexValues.Axis(axis, rank, "Gather");
        // A buffer kept by the kernel (never computed concurrently with itself): a run allocates nothing.
        if (_indices.Length != indices.Length)
        {
            _indices = new int[indices.Length];
        }

        int[] idx = _indices;
        IndexValues.NormalizeInto(indices, data.Shape[a], "Gather", idx);

        int outRank = rank - 1 + indices.Rank;
        Span<int> shape = outRank <= 16 ? stackalloc int[outRank] : new int[outRank];
        data.Shape.AsSpan(0, a).CopyTo(shape);
        indices.Shape.CopyTo(shape[a..]);
        data.Shape.AsSpan(a + 1).CopyTo(shape[(a + indices.Rank)..]);
        var output = context.AllocateOutput(0, data.DataType, shape);
        if (output.Length == 0)
        {
            return;
        }

        int outer = ShapeMath.Product(data.Shape, 0, a);
        int inner = ShapeMath.Product(data.Shape, a + 1, rank);
        Run(data, idx, output, outer, data.Shape[a], inner, context.Parallel);
    }

    /// <summary>Copies slice idx[j] of each outer block: output[o, j, :] = data[o, idx[j], :].</summary>
    internal static void Run(Tensor data, int[] idx, Tensor output, int outer, int axisDim, int inner, ParallelRunner parallel)
    {
        int count = idx.Length;
        int rows = outer * count;
        long bytes = (long)output.Length * Math.Max(1, output.ElementSize);
        var body = new Body(data, idx, output, axisDim, inner);
        if (bytes < ParallelBytes || parallel.Degree == 1 || data.DataType == DataType.String)
        {
            body.Invoke(0, rows);
        }
        else
        {
            parallel.ForRange(rows, Math.Max(1, (int)(ParallelBytes / Math.Max(1, bytes / rows))), ref body);
        }
    }

    private readonly struct Body(Tensor data, int[] idx, Tensor output, int axisDim, int inner) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            switch (inner == 1 ? TensorElements.KindOf(data.DataType) : ElementKind.String)
            {
                case ElementKind.Size1: Elements<byte>(data, idx, output, axisDim, start, end); break;
                case ElementKind.Size2: Elements<ushort>(data, idx, output, axisDim, start, end); break;
                case ElementKind.Size4: Elements<uint>(data, idx, output, axisDim, start, end); break;
                case ElementKind.Size8: Elements<ulong>(data, idx, output, axisDim, start, end); break;
                default: Slices(data, idx, output, axisDim, inner, start, end); break;
            }
        }
    }

    private static void Elements<T>(Tensor data, int[] idx, Tensor output, int axisDim, int start, int end)
    {
        ReadOnlySpan<T> src = TensorElements.As<T>(data);
        Span<T> dst = TensorElements.As<T>(output);
        int count = idx.Length;
        int o = start / count;
        int j = start - o * count;
        int baseIndex = o * axisDim;
        for (int r = start; r < end; r++)
        {
            dst[r] = src[baseIndex + idx[j]];
            if (++j == count)
            {
                j = 0;
                baseIndex += axisDim;
            }
        }
    }

    private static void Slices(Tensor data, int[] idx, Tensor output, int axisDim, int inner, int start, int end)
    {
        int count = idx.Length;
        for (int r = start; r < end; r++)
        {
            int o = r / count;
            long source = ((long)o * axisDim + idx[r - o * count]) * inner;
            TensorElements.Copy(data, source, output, (long)r * inner, inner);
        }
    }
}
