using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>Stores a tile's raw sums as 6 rows of 16 int32 for <see cref="QgemmOutput.Store"/> to correct and convert.</summary>
internal readonly unsafe struct QgemmIntTileSink : IQgemmTileSink
{
    private readonly int* _tile;

    public QgemmIntTileSink(int* tile) => _tile = tile;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c10, Vector256<int> c11, Vector256<int> c20, Vector256<int> c21,
        Vector256<int> c30, Vector256<int> c31, Vector256<int> c40, Vector256<int> c41, Vector256<int> c50, Vector256<int> c51)
    {
        int* tile = _tile;
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
    }
}
