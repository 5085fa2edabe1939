using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Writes a whole 4-row tile of up to three 8-column halves as floats straight from the accumulators, each half through
/// its own epilogue (<see cref="QgemmFloatHalf"/>, taken from its panel's once per block and column step).
/// </summary>
internal readonly unsafe struct QgemmTile4FloatSink : IQgemmTile4Sink
{
    private readonly QgemmFloatHalf* _halves;
    private readonly int _count;
    private readonly int _row;
    private readonly int* _rowSums;

    /// <param name="halves">The tile's halves' epilogues (<paramref name="count"/> of them).</param>
    /// <param name="row">The tile's first output row.</param>
    /// <param name="rowSums">Its rows' sums of A (from packing).</param>
    public QgemmTile4FloatSink(QgemmFloatHalf* halves, int count, int row, int* rowSums)
    {
        _halves = halves;
        _count = count;
        _row = row;
        _rowSums = rowSums;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c02, Vector256<int> c10, Vector256<int> c11, Vector256<int> c12,
        Vector256<int> c20, Vector256<int> c21, Vector256<int> c22, Vector256<int> c30, Vector256<int> c31, Vector256<int> c32)
    {
        var h = _halves;
        int row = _row;
        int* sums = _rowSums;
        h[0].Store(c00, row, sums[0]);
        h[0].Store(c10, row + 1, sums[1]);
        h[0].Store(c20, row + 2, sums[2]);
        h[0].Store(c30, row + 3, sums[3]);
        if (_count < 2) return;
        h[1].Store(c01, row, sums[0]);
        h[1].Store(c11, row + 1, sums[1]);
        h[1].Store(c21, row + 2, sums[2]);
        h[1].Store(c31, row + 3, sums[3]);
        if (_count < 3) return;
        h[2].Store(c02, row, sums[0]);
        h[2].Store(c12, row + 1, sums[1]);
        h[2].Store(c22, row + 2, sums[2]);
        h[2].Store(c32, row + 3, sums[3]);
    }
}
