using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Writes a 4-row tile of one whole panel (its two halves) as floats through the panel's epilogue
/// (<see cref="QgemmFloatPanel.StoreRow"/>): the AVX2 kernel's <see cref="QgemmConfig.KernelToFloat"/>.
/// </summary>
internal readonly unsafe struct QgemmTile4PanelSink : IQgemmTile4Sink
{
    private readonly QgemmFloatPanel* _panel;
    private readonly int _row;
    private readonly int* _rowSums;

    public QgemmTile4PanelSink(QgemmFloatPanel* panel, int row, int* rowSums)
    {
        _panel = panel;
        _row = row;
        _rowSums = rowSums;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c02, Vector256<int> c10, Vector256<int> c11, Vector256<int> c12,
        Vector256<int> c20, Vector256<int> c21, Vector256<int> c22, Vector256<int> c30, Vector256<int> c31, Vector256<int> c32)
    {
        var panel = _panel;
        int row = _row;
        panel->StoreRow(c00, c01, row, _rowSums[0]);
        panel->StoreRow(c10, c11, row + 1, _rowSums[1]);
        panel->StoreRow(c20, c21, row + 2, _rowSums[2]);
        panel->StoreRow(c30, c31, row + 3, _rowSums[3]);
    }
}
