using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// u8 × s8 → s32 matrix product with the zero points and the output conversion fused into the epilogue
/// (<see cref="QgemmOutput"/>). Work is cut into blocks of up to <see cref="RowBlock"/> rows times a share of B's
/// panels; each block packs its A rows once (widening them to 16 bits for the AVX-512BW, AVX2 and Vector128 kernels) and
/// sweeps them across its panels, one Mr x Nr tile at a time (<see cref="QgemmBlock"/>).
/// </summary>
internal static unsafe class Qgemm
{
    public const int RowBlock = 96;

    public static void Multiply<TRows>(int m, QgemmPackedB b, TRows rows, QgemmOutput output, ParallelRunner parallel)
        where TRows : struct, IQgemmRows
    {
        if (m <= 0 || b.N <= 0) return;
        var (blocks, panelSplit) = Split(m, 1, b, parallel.Degree);
        var blockOutput = BlockOutput(output, panelSplit);
        if (blocks.Count > 1) blockOutput = blockOutput with { Panels = QgemmFloatPanels.Build(blockOutput, b) };
        var body = new QgemmBody<TRows>(blocks, b, rows, blockOutput, panelSplit);
        int jobs = blocks.Count * panelSplit;
        parallel.ForChunks(jobs, jobs, ref body);
        if (panelSplit > 1 && output.Activation is { } activation)
        {
            ActivationRows.Apply((float*)output.Data, m, b.N, output.RowStride, activation, parallel);
        }
    }

    /// <summary>
    /// Batch i of A (the rows <paramref name="aOffsets"/>[i] elements on) times <paramref name="b"/>[i], into the output
    /// <paramref name="outputBatchBytes"/> further on per batch; every batch's blocks are jobs of one parallel loop.
    /// </summary>
    public static void MultiplyBatches<TRows>(int m, QgemmPackedB[] b, int[] aOffsets, TRows rows, QgemmOutput output, long outputBatchBytes, ParallelRunner parallel)
        where TRows : struct, IQgemmBatchRows<TRows> =>
        MultiplyBatches(m, b, aOffsets, rows, output, outputBatchBytes, null, default, parallel);

    /// <summary>As above, batch i's output <paramref name="outputOffsets"/>[i] bytes on.</summary>
    public static void MultiplyBatches<TRows>(int m, QgemmPackedB[] b, int[] aOffsets, TRows rows, QgemmOutput output, long[] outputOffsets, ParallelRunner parallel)
        where TRows : struct, IQgemmBatchRows<TRows> =>
        MultiplyBatches(m, b, aOffsets, rows, output, 0, outputOffsets, default, parallel);

    /// <summary>
    /// As above, leaving out what <paramref name="limits"/> says each batch's rows do not need (a causal attention's
    /// products; see <see cref="QgemmRowLimits"/>).
    /// </summary>
    public static void MultiplyBatches<TRows>(int m, QgemmPackedB[] b, int[] aOffsets, TRows rows, QgemmOutput output, long outputBatchBytes, long[]? outputOffsets, QgemmRowLimits limits, ParallelRunner parallel)
        where TRows : struct, IQgemmBatchRows<TRows>
    {
        if (m <= 0 || b.Length == 0 || b[0].N <= 0) return;
        var (blocks, panelSplit) = Split(m, b.Length, b[0], parallel.Degree);
        var body = new QgemmBatchBody<TRows>(blocks, panelSplit, b, aOffsets, rows, BlockOutput(output, panelSplit), outputBatchBytes, outputOffsets, limits);
        int jobs = b.Length * blocks.Count * panelSplit;
        parallel.ForChunks(jobs, jobs, ref body);
        if (panelSplit > 1 && output.Activation is { } activation)
        {
            for (int i = 0; i < b.Length; i++)
            {
                ActivationRows.Apply((float*)(output.Data + body.OutputOffset(i)), m, b[0].N, output.RowStride, activation, parallel);
            }
        }
    }

    // A block that covers all of B's panels finishes whole rows and applies the output's activation to them while they
    // are in cache; when B's panels are shared out among jobs, the activation runs over the output after the product.
    private static QgemmOutput BlockOutput(QgemmOutput output, int panelSplit) =>
        panelSplit == 1 || output.Activation is null ? output : output with { Activation = null };

    // As many row blocks per batch as RowBlock needs, their total rounded up to a multiple of the threads, the rows
    // shared out evenly among them in whole Mr tiles (QgemmRowBlocks), so every thread gets the same number of blocks
    // of about the same height: 1024 rows on 2 threads are 12 blocks of 84 or 90 rows (510 and 514 rows per thread).
    // B's panels are split too when there are few blocks, to keep every thread busy.
    private static (QgemmRowBlocks Blocks, int PanelSplit) Split(int m, int batches, QgemmPackedB b, int degree)
    {
        int rowBlocks = QgemmRowBlocks.Fewest(m, b.Config.Mr);
        int total = (rowBlocks * batches + degree - 1) / degree * degree;
        var blocks = new QgemmRowBlocks(m, b.Config.Mr, (total + batches - 1) / batches);
        int panelSplit = degree == 1 ? 1 : Math.Clamp((4 * degree) / (blocks.Count * batches), 1, b.Panels);
        return (blocks, panelSplit);
    }
}
