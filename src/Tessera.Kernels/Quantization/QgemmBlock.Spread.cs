using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The AVX2 kernel's whole float tiles on spread A rows (<see cref="QgemmTile6x16Spread{TStep}"/>): each row tile's
/// six rows are broadcast once into a per-thread buffer and then swept across the block's panels, row tiles outside.
/// </summary>
internal unsafe ref partial struct QgemmBlock
{
    // Spread rows take 32 bytes per row per K group: 128 groups (K up to 256) are 24 KB for a tile, which stays in L1
    // beside a panel; a longer K would push the panel out.
    private const int SpreadGroups = 128;

    // Spreading a row tile costs a broadcast and a store per row and K group, which only panels enough repay.
    private const int SpreadPanels = 16;

    [ThreadStatic]
    private static byte[]? t_spread;

    // The end of the whole 16-column panels before lastPanel (only B's last panel may be partial).
    private static int WholePanelsEnd(QgemmPackedB b, int lastPanel) =>
        lastPanel * QgemmConfig.Nr <= b.N ? lastPanel : lastPanel - 1;

    /// <summary>
    /// The block's whole 6-row tiles over whole panels [firstPanel, endPanel), on spread rows; returns how many rows
    /// that covered (0 when it ran nothing: the caller then does them all; so for fewer than 16 panels, or without
    /// the product's panel epilogues).
    /// </summary>
    private readonly int RunSpread(QgemmPackedB b, in QgemmOutput output, byte* a, nint lda, int row, int count, int firstPanel, int endPanel, int groups)
    {
        const int mr = QgemmMicroKernelAvx2.Mr;
        int wholeRows = count / mr * mr;
        // The panels' epilogues are the product's, set once (QgemmFloatPanels: a product of several row blocks).
        QgemmFloatPanel* epilogues = output.Panels;
        if (wholeRows == 0 || endPanel - firstPanel < SpreadPanels || epilogues is null) return 0;

        byte* spread = Buffer(ref t_spread, SpreadGroups * mr * 32);
        for (int r = 0; r < wholeRows; r += mr)
        {
            Spread(a + (r * lda), lda, groups, (int*)spread);
            for (int p = firstPanel; p < endPanel; p++)
            {
                QgemmTile6x16Spread<QgemmMicroKernelAvx2>.Run(spread, b.Panel(p), groups, new QgemmFloatTileSink(epilogues + p, row + r, _sums + r));
            }
        }

        return wholeRows;
    }

    // Group g of row i (its 4 bytes: two widened K values) repeated 8 times at [g · 48 + i · 8] ints.
    private static void Spread(byte* a, nint lda, int groups, int* spread)
    {
        byte* a0 = a, a1 = a + lda, a2 = a + (2 * lda), a3 = a + (3 * lda), a4 = a + (4 * lda), a5 = a + (5 * lda);
        for (int g = 0; g < groups; g++, spread += 48)
        {
            nint o = g * 4;
            Vector256.Create(*(int*)(a0 + o)).Store(spread);
            Vector256.Create(*(int*)(a1 + o)).Store(spread + 8);
            Vector256.Create(*(int*)(a2 + o)).Store(spread + 16);
            Vector256.Create(*(int*)(a3 + o)).Store(spread + 24);
            Vector256.Create(*(int*)(a4 + o)).Store(spread + 32);
            Vector256.Create(*(int*)(a5 + o)).Store(spread + 40);
        }
    }
}
