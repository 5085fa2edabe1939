using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// One output row of a float max pool whose window is 3 wide with stride 2 along W and at most 3 rows tall (ResNet's
/// 3x3 stride-2 stem pool), with AVX-512 straight from its input rows: 16 outputs take the rows' maximum over 33
/// columns (four loads per row) and three two-vector permutes, with no combined row written in between. Edge windows
/// that start in the left padding run one by one; the right end uses masked loads and stores. With AVX2 (no AVX-512)
/// the same in 8-output steps, see <see cref="RunAvx2"/>. Each row first asks
/// for the input rows of the output row after next (<c>prefetcht0</c>): ResNet-18's stem and pool alone at batch 8,
/// one thread, the pool's perf samples per stem micro-kernel sample 0.85 of those without it (median of 6 alternated
/// pairs, 0.75-1.02, load 26-50), and steadier (0.212-0.231 against 0.225-0.284).
/// </summary>
internal static unsafe class StridedMaxRow
{
    /// <summary>Whether <see cref="Run"/> applies: AVX-512 or AVX2, a 1-deep, at most 3-tall, 3-wide window with stride 2 along W, no window wholly in padding.</summary>
    public static bool Applies(PoolGeometry g)
    {
        if (!(Avx512F.IsSupported || Avx2.IsSupported) || g.Kernel(0) != 1 || g.Kernel(1) > 3 || g.Kernel(2) != 3 || g.Stride(2) != 2 || g.Dilation(2) != 1)
        {
            return false;
        }

        foreach (int count in g.Count(2))
        {
            if (count == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>dst[ow] = max over rows r0..r2 (repeat a row when fewer) and columns [2ow - pad, 2ow - pad + 3) inside [0, inW).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* r0, float* r1, float* r2, int inW, int pad, float* dst, int outW)
    {
        // The two input rows the output row after next brings in (3 and 4 rows past r2 for a stride-2 window of 3 rows;
        // rows run on through the planes of an NCHW tensor, and a prefetch past its end never faults): asked for now,
        // they arrive while this row and the next are computed. The stem's output (25.7 MB at batch 8) comes from
        // memory, and the hardware's own prefetch alone left the pool waiting on it (see the class summary).
        for (int col = 0; col < inW; col += 16)
        {
            Sse.Prefetch0(r2 + 3L * inW + col);
            Sse.Prefetch0(r2 + 4L * inW + col);
        }

        if (!Avx512F.IsSupported)
        {
            RunAvx2(r0, r1, r2, inW, pad, dst, outW);
            return;
        }

        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        int ow = 0;
        for (; ow < outW && 2 * ow < pad; ow++)
        {
            dst[ow] = Window(r0, r1, r2, 2 * ow - pad, inW);
        }

        for (; ow + 16 <= outW && 2 * ow - pad + 34 <= inW; ow += 16)
        {
            int at = 2 * ow - pad;
            var a = Rows(r0, r1, r2, at);
            var b = Rows(r0, r1, r2, at + 16);
            var c = Rows(r0, r1, r2, at + 2);
            var d = Rows(r0, r1, r2, at + 18);
            Reduce(a, b, c, d, evens, odds).Store(dst + ow);
        }

        var lanes = Vector512<int>.Indices;
        for (; ow < outW; ow += 16)
        {
            // Columns past the row are masked off (and count as -infinity); so are outputs past the row's end.
            int at = 2 * ow - pad;
            var a = Rows(r0, r1, r2, at, Vector512.LessThan(lanes, Vector512.Create(inW - at)));
            var b = Rows(r0, r1, r2, at + 16, Vector512.LessThan(lanes, Vector512.Create(inW - at - 16)));
            var c = Rows(r0, r1, r2, at + 2, Vector512.LessThan(lanes, Vector512.Create(inW - at - 2)));
            var d = Rows(r0, r1, r2, at + 18, Vector512.LessThan(lanes, Vector512.Create(inW - at - 18)));
            var store = Vector512.LessThan(lanes, Vector512.Create(outW - ow)).AsSingle();
            Avx512F.MaskStore(dst + ow, store, Reduce(a, b, c, d, evens, odds));
        }
    }

    /// <summary>
    /// <see cref="Run"/> with 256-bit vectors: 8 outputs from the rows' maximum over columns [at, at + 17), as a | b
    /// (from at) and c | d (from at + 1), each pair's even or odd columns picked by an in-lane shuffle and put in order by
    /// one 64-bit permute after the maxima. The right end recomputes the row's last 8 outputs (the same windows, so the
    /// same bits); rows too short for one step run window by window. On the AVX2 tier it replaced the combined-row
    /// path (three rows combined into scratch, then a deinterleaving reduction): ResNet-18 b1, 1 thread, the pool's
    /// per-node minimum over 10 alternated single-run processes, load 12-19: 0.417 -> 0.315 ms (the AVX-512 row 0.253 ms).
    /// </summary>
    private static void RunAvx2(float* r0, float* r1, float* r2, int inW, int pad, float* dst, int outW)
    {
        int ow = 0;
        for (; ow < outW && 2 * ow < pad; ow++)
        {
            dst[ow] = Window(r0, r1, r2, 2 * ow - pad, inW);
        }

        // Output ow's window is columns [2ow - pad, 2ow - pad + 3); a step reads [at, at + 17) from every row.
        int reach = inW + pad - 17, first = ow, last = reach < 0 ? -1 : Math.Min(outW - 8, reach / 2);
        if (last < first)
        {
            for (; ow < outW; ow++)
            {
                dst[ow] = Window(r0, r1, r2, 2 * ow - pad, inW);
            }

            return;
        }

        for (; ; ow += 8)
        {
            ow = Math.Min(ow, last);
            int at = 2 * ow - pad;
            var a = Rows256(r0, r1, r2, at);
            var b = Rows256(r0, r1, r2, at + 8);
            var c = Rows256(r0, r1, r2, at + 1);
            var d = Rows256(r0, r1, r2, at + 9);

            // Per 128-bit lane, outputs (0, 1, 4, 5 | 2, 3, 6, 7): even columns of a | b, odd ones, odd ones of c | d.
            var m = Vector256.Max(Vector256.Max(Avx.Shuffle(a, b, 0b10_00_10_00), Avx.Shuffle(a, b, 0b11_01_11_01)), Avx.Shuffle(c, d, 0b11_01_11_01));
            Avx2.Permute4x64(m.AsDouble(), 0b11_01_10_00).AsSingle().Store(dst + ow);
            if (ow == last)
            {
                break;
            }
        }

        for (ow = last + 8; ow < outW; ow++)
        {
            dst[ow] = Window(r0, r1, r2, 2 * ow - pad, inW);
        }
    }

    private static Vector256<float> Rows256(float* r0, float* r1, float* r2, int at) =>
        Vector256.Max(Vector256.Max(Vector256.Load(r0 + at), Vector256.Load(r1 + at)), Vector256.Load(r2 + at));

    /// <summary>Output j from columns 2j, 2j + 1 (of a | b) and 2j + 2 (of c | d, which start two columns later).</summary>
    private static Vector512<float> Reduce(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        Vector512<int> evens, Vector512<int> odds) =>
        Vector512.Max(Vector512.Max(Avx512F.PermuteVar16x32x2(a, evens, b), Avx512F.PermuteVar16x32x2(a, odds, b)),
            Avx512F.PermuteVar16x32x2(c, evens, d));

    private static Vector512<float> Rows(float* r0, float* r1, float* r2, int at) =>
        Vector512.Max(Vector512.Max(Vector512.Load(r0 + at), Vector512.Load(r1 + at)), Vector512.Load(r2 + at));

    private static Vector512<float> Rows(float* r0, float* r1, float* r2, int at, Vector512<int> valid)
    {
        var mask = valid.AsSingle();
        var fill = Vector512.Create(float.NegativeInfinity);
        return Vector512.Max(Vector512.Max(Avx512F.MaskLoad(r0 + at, mask, fill), Avx512F.MaskLoad(r1 + at, mask, fill)),
            Avx512F.MaskLoad(r2 + at, mask, fill));
    }

    private static float Window(float* r0, float* r1, float* r2, int start, int inW)
    {
        int first = Math.Max(0, start);
        float best = r0[first];
        for (int col = first; col < Math.Min(inW, start + 3); col++)
        {
            best = Max(Max(Max(best, r0[col]), r1[col]), r2[col]);
        }

        return best;
    }

    // MaxReduction's scalar comparison, so an edge output has the bits the other pooling paths give it.
    private static float Max(float a, float b) => b > a ? b : a;
}
