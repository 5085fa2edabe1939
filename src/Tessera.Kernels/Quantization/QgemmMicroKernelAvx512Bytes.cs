using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-512BW on 7-bit weights: <see cref="QgemmMicroKernelAvx2Bytes"/>'s step (vpmaddubsw, then
/// vpmaddwd with ones) with a whole 16-column panel of one K group (64 bytes) in one 512-bit vector, as
/// <see cref="QgemmMicroKernelAvx512"/> does with the widened pairs. Six 512-bit accumulators, handed to the sink as
/// 256-bit halves.
/// </summary>
internal static unsafe class QgemmMicroKernelAvx512Bytes
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => Run(a, lda, b, groups, new QgemmIntTileSink(tile));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b, int groups, TSink sink)
        where TSink : struct, IQgemmTileSink
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero;
        var c3 = Vector512<int>.Zero; var c4 = Vector512<int>.Zero; var c5 = Vector512<int>.Zero;
        var ones = Vector512.Create((short)1);

        // Two row pointers, each reaching the next two rows as [p + lda] and [p + lda * 2].
        byte* p0 = a, p3 = a + (3 * lda);
        for (int g = 0; g < groups; g++, b += 64, p0 += 4, p3 += 4)
        {
            var y = Vector512.Load((sbyte*)b);
            c0 = Step(c0, p0, y, ones);
            c1 = Step(c1, p0 + lda, y, ones);
            c2 = Step(c2, p0 + (2 * lda), y, ones);
            c3 = Step(c3, p3, y, ones);
            c4 = Step(c4, p3 + lda, y, ones);
            c5 = Step(c5, p3 + (2 * lda), y, ones);
        }

        sink.Finish(
            c0.GetLower(), c0.GetUpper(), c1.GetLower(), c1.GetUpper(), c2.GetLower(), c2.GetUpper(),
            c3.GetLower(), c3.GetUpper(), c4.GetLower(), c4.GetUpper(), c5.GetLower(), c5.GetUpper());
    }

    // One row's K group (4 A bytes) against the panel's 16 columns of that group.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<int> sums, byte* group, Vector512<sbyte> b, Vector512<short> ones) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)group).AsByte(), b), ones));
}
