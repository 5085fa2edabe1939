using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-512BW, for AVX-512 CPUs without AVX-VNNI (AMD Zen 4, Intel Skylake-SP to Ice Lake: .NET 10
/// exposes no 512-bit vpdpbusd, so their AVX512_VNNI is out of reach). Same widened pair layout and tile as the AVX2
/// kernel, a whole 16-column panel of one K pair in one 512-bit vector: per K pair one load of B and, per row, one
/// broadcast of the row's two widened A values and one 512-bit vpmaddwd. No saturation: each 16 x 16-bit product (A
/// at most 255, B within [-128, 127]) is exact and a pair's sum (at most 2 · 255 · 128) fits int32, where vpmaddubsw's
/// 16-bit pair sums would not. Six 512-bit accumulators, handed to the sink as 256-bit halves.
/// </summary>
internal static unsafe class QgemmMicroKernelAvx512
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => Run(a, lda, b, groups, new QgemmIntTileSink(tile));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b, int groups, TSink sink)
        where TSink : struct, IQgemmTileSink
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero;
        var c3 = Vector512<int>.Zero; var c4 = Vector512<int>.Zero; var c5 = Vector512<int>.Zero;

        // Two row pointers, each reaching the next two rows as [p + lda] and [p + lda * 2].
        byte* p0 = a, p3 = a + (3 * lda);
        for (int g = 0; g < groups; g++, b += 64, p0 += 4, p3 += 4)
        {
            var y = Vector512.Load((short*)b);
            c0 = Step(c0, p0, y);
            c1 = Step(c1, p0 + lda, y);
            c2 = Step(c2, p0 + (2 * lda), y);
            c3 = Step(c3, p3, y);
            c4 = Step(c4, p3 + lda, y);
            c5 = Step(c5, p3 + (2 * lda), y);
        }

        sink.Finish(
            c0.GetLower(), c0.GetUpper(), c1.GetLower(), c1.GetUpper(), c2.GetLower(), c2.GetUpper(),
            c3.GetLower(), c3.GetUpper(), c4.GetLower(), c4.GetUpper(), c5.GetLower(), c5.GetUpper());
    }

    // One row's K pair (two widened A values, 4 bytes) against the panel's 16 columns of that pair.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<int> sums, byte* pair, Vector512<short> b) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)pair).AsInt16(), b));
}
