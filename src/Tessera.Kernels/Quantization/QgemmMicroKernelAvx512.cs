using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-512BW, for AVX-512 CPUs without AVX-VNNI (AMD Zen 4, Intel Skylake-SP to Ice Lake: .NET 10
/// exposes no 512-bit vpdpbusd, so their AVX512_VNNI is out of reach). Same widened pair layout as the AVX2 kernel, a
/// whole 16-column panel of one K pair in one 512-bit vector (<see cref="QgemmTile6x16x512{TStep}"/>): per K pair one
/// load of B and, per row, one broadcast of the row's two widened A values and one 512-bit vpmaddwd. No saturation:
/// each 16 x 16-bit product (A at most 255, B within [-128, 127]) is exact and a pair's sum (at most 2 · 255 · 128)
/// fits int32, where vpmaddubsw's 16-bit pair sums would not.
/// </summary>
internal readonly unsafe struct QgemmMicroKernelAvx512 : IQgemmStep512
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => QgemmTile6x16x512<QgemmMicroKernelAvx512>.Run(a, lda, b, groups, tile);

    // One row's K pair (two widened A values, broadcast) against the panel's 16 columns of that pair.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Accumulate(Vector512<int> sums, Vector512<int> a, Vector512<int> b) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()));
}
