using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// u8 × s8 → s32 matrix product with the zero points and the output conversion fused into the epilogue
/// (<see cref="QgemmOutput"/>). Work is cut into blocks of up to <see cref="RowBlock"/> rows times a share of B's
/// panels; each block packs its A rows once (widening them to 16 bits for the AVX2 and Vector128 kernels) and
/// sweeps them across its panels, one Mr x Nr tile at a time.
/// </summary>
internal static unsafe class Qgemm
{
    public const int RowBlock = 96;

    public static void Multiply<TRows>(int m, QgemmPackedB b, TRows rows, QgemmOutput output, ParallelRunner parallel)
        where TRows : struct, IQgemmRows
    {
        if (m <= 0 || b.N <= 0) return;
        int degree = parallel.Degree;

        // As many blocks as RowBlock needs, rounded up to a multiple of the threads and made equal (in whole Mr tiles),
        // so no thread is left with one block more than the others: 1024 rows on 2 threads are 12 blocks of 90 rows
        // (6 each), not 11 of 96 (6 and 5).
        int mr = b.Config.Mr;
        int rowBlocks = (m + RowBlock - 1) / RowBlock;
        rowBlocks = (rowBlocks + degree - 1) / degree * degree;
        int blockRows = Math.Min(RowBlock, ((m + rowBlocks - 1) / rowBlocks + mr - 1) / mr * mr);
        rowBlocks = (m + blockRows - 1) / blockRows;

        // Enough pieces to keep every thread busy: split B's panels when there are few row blocks.
        int panelSplit = degree == 1 ? 1 : Math.Clamp((4 * degree) / rowBlocks, 1, b.Panels);
        var body = new QgemmBody<TRows>(m, blockRows, b, rows, output, panelSplit);
        int jobs = rowBlocks * panelSplit;
        parallel.ForChunks(jobs, jobs, ref body);
    }
}
