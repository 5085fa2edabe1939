using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// Stores a 4-row tile of one whole panel (its two halves) as 4 rows of 16 int32 for <see cref="QgemmOutput.Store"/>
/// to correct and convert: the AVX2 kernel's <see cref="QgemmConfig.Kernel"/>.
/// </summary>
internal readonly unsafe struct QgemmTile4IntSink : IQgemmTile4Sink
{
    private readonly int* _tile;

    public QgemmTile4IntSink(int* tile) => _tile = tile;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(
        Vector256<int> c00, Vector256<int> c01, Vector256<int> c02, Vector256<int> c10, Vector256<int> c11, Vector256<int> c12,
        Vector256<int> c20, Vector256<int> c21, Vector256<int> c22, Vector256<int> c30, Vector256<int> c31, Vector256<int> c32)
    {
        int* tile = _tile;
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
    }
}
