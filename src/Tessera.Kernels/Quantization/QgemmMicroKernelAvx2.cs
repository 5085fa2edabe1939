using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The AVX2 step: per K pair one broadcast of 2 widened A values per row and vpmaddwd against 8 columns of 2 widened B
/// values: each 16 x 16-bit product is exact and a pair's sum fits int32, so nothing saturates. Its tile is 4 rows by
/// up to 24 columns (<see cref="QgemmTile4x24{TStep, THalves}"/>); one panel's int32 tile takes two halves.
/// </summary>
internal readonly unsafe struct QgemmMicroKernelAvx2 : IQgemmStep
{
    public const int Mr = QgemmTile4x24<QgemmMicroKernelAvx2, QgemmHalves2>.Mr;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) =>
        QgemmTile4x24<QgemmMicroKernelAvx2, QgemmHalves2>.Run(a, lda, b, b + 32, b, groups, new QgemmTile4IntSink(tile));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> sums, Vector256<int> a, Vector256<int> b) =>
        Avx2.Add(sums, Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()));
}
