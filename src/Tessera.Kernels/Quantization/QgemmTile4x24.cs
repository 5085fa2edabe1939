using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The AVX2 kernel's tile: 4 rows by up to three 8-column halves of packed panels (24 columns), each half read at its
/// own address, so a tile may take the second half of one 16-column panel and the whole next one without packing B
/// differently. Why not 6 x 16: on Zen 4 the broadcast of a row's K group takes a vector pipe as vpmaddwd and vpaddd
/// do, so a group costs Mr broadcasts + 2 · (Mr · Nr / 8) multiply-adds and adds; 4 x 24 spends 28 of those per 192
/// multiply-adds where 6 x 16 spends 30 (operands in L1, scratch program: 93-95 against 86-87 G multiply-adds/s).
/// Twelve int32 accumulators (row i, half j) handed to a sink at the end; with fewer halves the rest stay zero.
/// </summary>
internal static unsafe class QgemmTile4x24<TStep, THalves>
    where TStep : struct, IQgemmStep
    where THalves : struct, IQgemmHalfCount
{
    public const int Mr = 4;

    /// <param name="a">The 4 A rows, <paramref name="lda"/> bytes apart.</param>
    /// <param name="b0">The first half's group 0 (a panel, or a panel + 32 bytes for its columns 8-15).</param>
    /// <param name="b1">The second half's (unused for one half).</param>
    /// <param name="b2">The third half's (unused for fewer than three).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b0, byte* b1, byte* b2, int groups, TSink sink)
        where TSink : struct, IQgemmTile4Sink
    {
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero; var c02 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero; var c12 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero; var c22 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero; var c32 = Vector256<int>.Zero;
        byte* a0 = a, a1 = a + lda, a2 = a + (2 * lda), a3 = a + (3 * lda);

        // Twelve accumulators, two halves of B, the row's broadcast and vpmaddwd's result fill the 16 ymm registers, so
        // each row reads the third half from memory (an operand of its vpmaddwd). Its four addresses must look
        // different to the JIT, which would otherwise load it once into a 17th register and spill an accumulator
        // through the stack every group (that store-to-load chain made the tile slower than 6 x 16). lda >> 62 is 0.
        nint zero = lda >> 62;
        byte* q0 = b2, q1 = b2 + zero, q2 = b2 + (2 * zero), q3 = b2 + (3 * zero);
        nint end = (nint)groups * 4;
        for (nint o = 0; o < end; o += 4)
        {
            // Group g is 64 bytes into each half's panel per group: 16 · o.
            nint at = o * 16;
            var y0 = Vector256.Load((int*)(b0 + at));
            var y1 = THalves.Count > 1 ? Vector256.Load((int*)(b1 + at)) : default;
            var x = Vector256.Create(*(int*)(a0 + o));
            c00 = TStep.Accumulate(c00, x, y0);
            if (THalves.Count > 1) c01 = TStep.Accumulate(c01, x, y1);
            if (THalves.Count > 2) c02 = TStep.Accumulate(c02, x, Vector256.Load((int*)(q0 + at)));
            x = Vector256.Create(*(int*)(a1 + o));
            c10 = TStep.Accumulate(c10, x, y0);
            if (THalves.Count > 1) c11 = TStep.Accumulate(c11, x, y1);
            if (THalves.Count > 2) c12 = TStep.Accumulate(c12, x, Vector256.Load((int*)(q1 + at)));
            x = Vector256.Create(*(int*)(a2 + o));
            c20 = TStep.Accumulate(c20, x, y0);
            if (THalves.Count > 1) c21 = TStep.Accumulate(c21, x, y1);
            if (THalves.Count > 2) c22 = TStep.Accumulate(c22, x, Vector256.Load((int*)(q2 + at)));
            x = Vector256.Create(*(int*)(a3 + o));
            c30 = TStep.Accumulate(c30, x, y0);
            if (THalves.Count > 1) c31 = TStep.Accumulate(c31, x, y1);
            if (THalves.Count > 2) c32 = TStep.Accumulate(c32, x, Vector256.Load((int*)(q3 + at)));
        }

        sink.Finish(c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32);
    }
}
