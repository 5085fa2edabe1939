using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 12 x 16 tile with AVX-512BW, for AVX-512 CPUs without AVX-VNNI (AMD Zen 4, Intel Skylake-SP to Ice Lake: .NET 10
/// exposes no 512-bit vpdpbusd, so their AVX512_VNNI is out of reach). Same widened pair layout as the AVX2 kernel, a
/// whole 16-column panel of one K pair in one 512-bit vector: per K pair one load of B and, per row, one broadcast of
/// the row's two widened A values and one 512-bit vpmaddwd. No saturation: each 16 x 16-bit product (A at most 255,
/// B within [-128, 127]) is exact and a pair's sum (at most 2 · 255 · 128) fits int32; vpmaddubsw's 16-bit pair sums
/// would not. Twelve 512-bit accumulators, one per row, handed to two 6-row sinks at the end as 256-bit halves.
/// </summary>
internal static unsafe class QgemmMicroKernelAvx512
{
    public const int Mr = 12;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) =>
        Run(a, lda, b, groups, new QgemmIntTileSink(tile), new QgemmIntTileSink(tile + (6 * QgemmConfig.Nr)));

    /// <summary>Rows 0-5 go to <paramref name="top"/>, rows 6-11 to <paramref name="bottom"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b, int groups, TSink top, TSink bottom)
        where TSink : struct, IQgemmTileSink
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero;
        var c3 = Vector512<int>.Zero; var c4 = Vector512<int>.Zero; var c5 = Vector512<int>.Zero;
        var c6 = Vector512<int>.Zero; var c7 = Vector512<int>.Zero; var c8 = Vector512<int>.Zero;
        var c9 = Vector512<int>.Zero; var c10 = Vector512<int>.Zero; var c11 = Vector512<int>.Zero;

        // Four row pointers, each reaching the next two rows as [p + lda] and [p + lda * 2]: twelve would not fit
        // the general registers beside B, lda and the counter.
        byte* p0 = a, p3 = a + (3 * lda), p6 = a + (6 * lda), p9 = a + (9 * lda);
        for (int g = 0; g < groups; g++, b += 64, p0 += 4, p3 += 4, p6 += 4, p9 += 4)
        {
            var y = Vector512.Load((short*)b);
            c0 = Step(c0, p0, y);
            c1 = Step(c1, p0 + lda, y);
            c2 = Step(c2, p0 + (2 * lda), y);
            c3 = Step(c3, p3, y);
            c4 = Step(c4, p3 + lda, y);
            c5 = Step(c5, p3 + (2 * lda), y);
            c6 = Step(c6, p6, y);
            c7 = Step(c7, p6 + lda, y);
            c8 = Step(c8, p6 + (2 * lda), y);
            c9 = Step(c9, p9, y);
            c10 = Step(c10, p9 + lda, y);
            c11 = Step(c11, p9 + (2 * lda), y);
        }

        top.Finish(
            c0.GetLower(), c0.GetUpper(), c1.GetLower(), c1.GetUpper(), c2.GetLower(), c2.GetUpper(),
            c3.GetLower(), c3.GetUpper(), c4.GetLower(), c4.GetUpper(), c5.GetLower(), c5.GetUpper());
        bottom.Finish(
            c6.GetLower(), c6.GetUpper(), c7.GetLower(), c7.GetUpper(), c8.GetLower(), c8.GetUpper(),
            c9.GetLower(), c9.GetUpper(), c10.GetLower(), c10.GetUpper(), c11.GetLower(), c11.GetUpper());
    }

    // One row's K pair (two widened A values, 4 bytes) against the panel's 16 columns of that pair.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<int> sums, byte* pair, Vector512<short> b) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)pair).AsInt16(), b));
}
