using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX2: per K pair one broadcast of 2 widened A values per row and vpmaddwd against 16 columns of 2
/// widened B values: each 16 x 16-bit product is exact and a pair's sum fits int32, so nothing saturates.
/// </summary>
internal readonly unsafe struct QgemmMicroKernelAvx2 : IQgemmStep
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => QgemmTile6x16<QgemmMicroKernelAvx2>.Run(a, lda, b, groups, tile);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> sums, Vector256<int> a, Vector256<int> b) =>
        Avx2.Add(sums, Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()));
}
