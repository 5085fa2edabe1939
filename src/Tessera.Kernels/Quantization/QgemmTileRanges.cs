using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The slots a float product's epilogue writes each tile's smallest and largest value to (<see cref="QgemmOutput.TileRanges"/>),
/// kept from run to run, and their merge into the range of a run of panels (a part's columns). One slot per tile, so
/// the jobs never share one and no slot needs clearing: every tile of the product is stored exactly once.
/// </summary>
internal sealed unsafe class QgemmTileRanges
{
    private float[] _slots = [];
    private int _panels;
    private int _rowTiles;

    /// <summary>The slots for an M x (16 · <paramref name="panels"/>) product of <paramref name="tileRows"/>-row tiles.</summary>
    public float* Slots(int m, int tileRows, int panels)
    {
        _panels = panels;
        _rowTiles = (m + tileRows - 1) / tileRows;
        int length = 2 * _rowTiles * panels;
        if (_slots.Length < length) _slots = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slots));
    }

    /// <summary>The smallest and largest value the last product stored in panels [first, first + count).</summary>
    public (float Min, float Max) Of(int first, int count)
    {
        float least = float.PositiveInfinity, most = float.NegativeInfinity;
        for (int t = 0; t < _rowTiles; t++)
        {
            int slot = 2 * ((t * _panels) + first);
            for (int p = 0; p < count; p++, slot += 2)
            {
                least = MathF.Min(least, _slots[slot]);
                most = MathF.Max(most, _slots[slot + 1]);
            }
        }

        return (least, most);
    }
}
