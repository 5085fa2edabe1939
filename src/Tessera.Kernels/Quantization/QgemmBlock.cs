using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// One block of the integer GEMM, the unit of work of <see cref="QgemmBody{TRows}"/> and
/// <see cref="QgemmBatchBody{TRows}"/>: pack up to <see cref="Qgemm.RowBlock"/> A rows (widening them to 16 bits for
/// the AVX-512BW, AVX2 and Vector128 kernels), then run the micro-kernel over a range of B's panels and store each tile.
/// </summary>
internal unsafe ref struct QgemmBlock
{
    // Each thread's packing buffers, grown on demand and kept (pinned: the kernels read them through pointers).
    [ThreadStatic]
    private static byte[]? t_bytes;

    [ThreadStatic]
    private static byte[]? t_wide;

    private readonly byte* _bytes;
    private readonly byte* _wide;
    private readonly int* _sums;
    private readonly int* _tile;

    /// <summary>This thread's buffers for operands of <paramref name="kPadded"/> packed K; sums and tile are the caller's stack.</summary>
    public QgemmBlock(QgemmConfig config, int kPadded, int* sums, int* tile)
    {
        int bufferRows = (Qgemm.RowBlock + config.Mr - 1) / config.Mr * config.Mr;
        _bytes = Buffer(ref t_bytes, bufferRows * kPadded);
        _wide = config.ElementSize == 2 ? Buffer(ref t_wide, bufferRows * kPadded * 2) : null;
        _sums = sums;
        _tile = tile;
    }

    /// <summary>Rows [row, row + count) of A times B's panels [firstPanel, lastPanel), into <paramref name="output"/>.</summary>
    public readonly void Run<TRows>(in TRows rows, QgemmPackedB b, in QgemmOutput output, int row, int count, int firstPanel, int lastPanel)
        where TRows : struct, IQgemmRows =>
        Run(rows, b, output, row, count, firstPanel, lastPanel, default);

    /// <summary>As above, leaving out what <paramref name="limits"/> says rows [row, row + count) do not need.</summary>
    public readonly void Run<TRows>(in TRows rows, QgemmPackedB b, in QgemmOutput output, int row, int count, int firstPanel, int lastPanel, QgemmRowLimits limits)
        where TRows : struct, IQgemmRows
    {
        var config = b.Config;
        int mr = config.Mr;
        int k = b.K;
        int ld = b.KPadded;
        int groups = ld / config.KGroup;
        int padded = (count + mr - 1) / mr * mr;
        rows.Pack(row, count, _bytes, ld, _sums);

        // Pack writes K bytes per row: zero only what the kernel reads beyond them (the K padding, the rows up to Mr).
        if (ld > k)
        {
            for (int r = 0; r < count; r++) new Span<byte>(_bytes + ((long)r * ld) + k, ld - k).Clear();
        }

        new Span<byte>(_bytes + ((long)count * ld), (padded - count) * ld).Clear();
        byte* a = _bytes;
        nint lda = ld;
        if (_wide is not null)
        {
            Widen(_bytes, (ushort*)_wide, padded * ld);
            a = _wide;
            lda = ld * 2;
        }

        if (limits.IsNone)
        {
            // A float output's whole tiles go from the accumulators straight to their rows, with the panel's column
            // terms, scales and biases taken once for its row tiles rather than per tile.
            bool floatTiles = config.HasFloatTiles && output.HasFloatPanels;
            QgemmFloatPanel floatPanel = default;
            for (int p = firstPanel; p < lastPanel; p++)
            {
                byte* panel = b.Panel(p);
                int col = p * QgemmConfig.Nr;
                int cols = Math.Min(QgemmConfig.Nr, b.N - col);
                bool wholePanel = floatTiles && cols == QgemmConfig.Nr;
                QgemmFloatPanel* epilogue = output.Panels is null ? &floatPanel : output.Panels + p;
                if (wholePanel && output.Panels is null) floatPanel.Set(output, col);
                for (int r = 0; r < count; r += mr)
                {
                    if (wholePanel && count - r >= mr)
                    {
                        config.KernelToFloat(a + (r * lda), lda, panel, groups, epilogue, row + r, _sums + r);
                        continue;
                    }

                    config.Kernel(a + (r * lda), lda, panel, groups, _tile);
                    if (wholePanel) epilogue->StoreTile(_tile, row + r, count - r, _sums + r);
                    else output.Store(_tile, row + r, Math.Min(mr, count - r), col, cols, _sums + r);
                }
            }
        }
        else
        {
            RunLimited(b, output, a, lda, row, count, firstPanel, lastPanel, groups, limits);
        }

        if (output.Activation is { } activation && firstPanel == 0 && lastPanel == b.Panels)
        {
            // The block's rows are whole and still in cache: a GELU after the product had read and written the
            // whole output once more (GPT's and BERT's 1024 x 512 up-projections, 2 MB each).
            ActivationRows.ApplyRange((float*)output.Data, row, row + count, b.N, output.RowStride, activation);
        }

        GC.KeepAlive(b);
    }

    // Each row tile's panels up to its rows' largest column limit (the others are neither multiplied nor stored), each
    // over its K groups up to its rows' largest depth (a zero byte adds nothing to the raw sums the kernel makes; the
    // epilogue's zero-point terms use the row and column sums over all of K, which packing took).
    private readonly void RunLimited(QgemmPackedB b, in QgemmOutput output, byte* a, nint lda, int row, int count, int firstPanel, int lastPanel, int groups, QgemmRowLimits limits)
    {
        var config = b.Config;
        int mr = config.Mr;
        int tiles = (count + mr - 1) / mr;
        int* tileGroups = stackalloc int[tiles];
        int* tileEnd = stackalloc int[tiles];
        for (int t = 0; t < tiles; t++)
        {
            int first = row + (t * mr), rowsInTile = Math.Min(mr, count - (t * mr));
            int depth = limits.Depth is null ? b.K : Math.Clamp(QgemmRowLimits.Largest(limits.Depth, first, rowsInTile), 1, b.K);
            tileGroups[t] = Math.Min(groups, (depth + config.KGroup - 1) / config.KGroup);
            tileEnd[t] = limits.Columns is null ? b.N : QgemmRowLimits.Largest(limits.Columns, first, rowsInTile);
        }

        // Whole float tiles as in Run: the attention's products had built the panel's epilogue again for every tile
        // through the int32 tile (the panel's set-up and the tile store were 5% of int8 GPT's samples on AVX2).
        bool floatTiles = config.HasFloatTiles && output.HasFloatPanels;
        QgemmFloatPanel floatPanel = default;
        for (int p = firstPanel; p < lastPanel; p++)
        {
            byte* panel = b.Panel(p);
            int col = p * QgemmConfig.Nr;
            int cols = Math.Min(QgemmConfig.Nr, b.N - col);
            bool wholePanel = floatTiles && cols == QgemmConfig.Nr;
            if (wholePanel) floatPanel.Set(output, col);
            for (int t = 0; t < tiles; t++)
            {
                if (col >= tileEnd[t]) continue;
                int r = t * mr;
                if (wholePanel && count - r >= mr)
                {
                    config.KernelToFloat(a + (r * lda), lda, panel, tileGroups[t], &floatPanel, row + r, _sums + r);
                    continue;
                }

                config.Kernel(a + (r * lda), lda, panel, tileGroups[t], _tile);
                if (wholePanel) floatPanel.StoreTile(_tile, row + r, count - r, _sums + r);
                else output.Store(_tile, row + r, Math.Min(mr, count - r), col, cols, _sums + r);
            }
        }
    }

    // Zero-extends A's bytes to the 16-bit values the widened kernels (all but VNNI) read: a pass over every packed byte
    // per block, so 16 at a time rather than one.
    private static void Widen(byte* source, ushort* destination, int count)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= count - 16; i += 16)
            {
                var (lower, upper) = Vector128.Widen(Vector128.Load(source + i));
                lower.Store(destination + i);
                upper.Store(destination + i + 8);
            }
        }

        for (; i < count; i++) destination[i] = source[i];
    }

    private static byte* Buffer(ref byte[]? buffer, int size)
    {
        if (buffer is null || buffer.Length < size)
        {
            buffer = GC.AllocateUninitializedArray<byte>(Math.Max(size, 1 << 16), pinned: true);
        }

        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }
}
