using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Writes a whole 6 x 16 tile's float results straight from the accumulators (<see cref="QgemmFloatPanel.StoreRow"/>
/// per row), so the raw sums do not go through the tile buffer and the epilogue's column terms, scales and biases are
/// taken from the panel's, computed once for all its row tiles.
/// </summary>
internal readonly unsafe struct QgemmFloatTileSink : IQgemmTileSink
{
    private readonly QgemmFloatPanel* _panel;
    private readonly int _row;
    private readonly int* _rowSums;

    /// <param name="panel">The panel's epilogue (the caller's stack).</param>
    /// <param name="row">The tile's first output row.</param>
    /// <param name="rowSums">Its rows' sums of A (from packing).</param>
    public QgemmFloatTileSink(QgemmFloatPanel* panel, int row, int* rowSums)
    {
        _panel = panel;
        _row = row;
        _rowSums = rowSums;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c10, Vector256<int> c11, Vector256<int> c20, Vector256<int> c21,
        Vector256<int> c30, Vector256<int> c31, Vector256<int> c40, Vector256<int> c41, Vector256<int> c50, Vector256<int> c51)
    {
        var panel = _panel;
        int row = _row;
        panel->StoreRow(c00, c01, row, _rowSums[0]);
        panel->StoreRow(c10, c11, row + 1, _rowSums[1]);
        panel->StoreRow(c20, c21, row + 2, _rowSums[2]);
        panel->StoreRow(c30, c31, row + 3, _rowSums[3]);
        panel->StoreRow(c40, c41, row + 4, _rowSums[4]);
        panel->StoreRow(c50, c51, row + 5, _rowSums[5]);
    }
}
