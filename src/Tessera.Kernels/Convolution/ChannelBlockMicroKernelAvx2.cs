using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// AVX2/FMA micro-kernel of <see cref="ChannelBlockedConv"/>: the same 64 output channels x 6 pixels and operands as
/// <see cref="ChannelBlockMicroKernel"/>, computed as four 16-channel quarters of 6 x 2 accumulators (12 of the 16
/// vector registers). Per depth step a quarter loads its 16 weights (one cache line) and broadcasts one input float per
/// pixel, as the AVX-512 kernel does, so each output sums the same products in the same order. Its weights are
/// quarter-major within each depth block (<see cref="RepackDepthBlock"/>), so a quarter streams one contiguous run.
/// </summary>
internal static unsafe class ChannelBlockMicroKernelAvx2
{
    private const int Channels = ChannelBlockMicroKernel.Channels;

    private const int Pixels = ChannelBlockMicroKernel.Pixels;

    private const int Quarter = 16;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Reorders one depth block of kc x 64 weights (tap-major, as the AVX-512 kernel reads them) into four
    /// quarter-major runs of kc x 16: quarter q's weight for depth step k at block[q * kc * 16 + k * 16].
    /// A quarter's run is then one stream of cache lines (9 KiB at 144 steps, held in L1 across a chunk's tiles) where
    /// in the tap-major order it read every fourth line of 36 KiB. Measured at batch 8, one thread (ResNet-18, CPU per
    /// inference, 4 alternated rounds in one build, load 21-27): 0.96 of the tap-major order's (median 313 vs 324 ms);
    /// the finished build against the tap-major one 0.94-1.03, median 0.99 (8 pairs, load 26-47).
    /// </summary>
    public static void RepackDepthBlock(float* block, int kc, float[] staged)
    {
        new ReadOnlySpan<float>(block, kc * Channels).CopyTo(staged);
        for (int k = 0; k < kc; k++)
        {
            for (int j = 0; j < Channels; j++)
            {
                block[j / Quarter * kc * Quarter + k * Quarter + j % Quarter] = staged[k * Channels + j];
            }
        }
    }

    /// <summary>
    /// c[p * 64 + ch] (+)= sum over k &lt; kc of w[k, ch] * x[columns[p] + offsets[k]], for the tiles * 6 pixels p and
    /// the 64 channels ch (the last tile's first <paramref name="lastPixels"/> only), from one depth block of
    /// quarter-major weights w; each output sums its taps in k order.
    /// Quarter by quarter, tile by tile within a quarter: the quarter's weights stay in L1 across the tiles. A short last
    /// tile runs a kernel of its own width (one pixel: all four quarters at once): a 7x7 plane's 49 pixels are 8 tiles
    /// and one pixel, where a whole tile for that pixel cost a ninth of the layer at batch 1.
    /// </summary>
    public static void Sweep(float* w, float* x, int* columns, int tiles, int lastPixels, int* offsets, int kc, float* c, bool accumulate)
    {
        int* last = columns + (tiles - 1) * Pixels;
        float* cLast = c + (tiles - 1) * Pixels * Channels;
        int whole = lastPixels == Pixels ? tiles : tiles - 1;
        for (int q = 0; q < Channels; q += Quarter)
        {
            float* wq = w + q * kc, cq = c + q;
            for (int t = 0; t < whole; t++)
            {
                RunQuarter<Six>(wq, x, columns + t * Pixels, offsets, kc, cq + t * Pixels * Channels, accumulate);
            }

            switch (lastPixels)
            {
                case 2: RunQuarter<Two>(wq, x, last, offsets, kc, cLast + q, accumulate); break;
                case 3: RunQuarter<Three>(wq, x, last, offsets, kc, cLast + q, accumulate); break;
                case 4: RunQuarter<Four>(wq, x, last, offsets, kc, cLast + q, accumulate); break;
                case 5: RunQuarter<Five>(wq, x, last, offsets, kc, cLast + q, accumulate); break;
            }
        }

        if (lastPixels == 1)
        {
            RunPixel(w, x + *last, offsets, kc, cLast, accumulate);
        }
    }

    /// <summary>
    /// All 64 channels of c for one pixel (x its column), from the four quarters' weights at once: 8 accumulators keep
    /// both FMA pipes busy where one quarter's 2 would wait on each FMA's latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPixel(float* w, float* x, int* offsets, int kc, float* c, bool accumulate)
    {
        nint quarter = kc * Quarter;
        var c0 = Vector256<float>.Zero; var c1 = Vector256<float>.Zero;
        var c2 = Vector256<float>.Zero; var c3 = Vector256<float>.Zero;
        var c4 = Vector256<float>.Zero; var c5 = Vector256<float>.Zero;
        var c6 = Vector256<float>.Zero; var c7 = Vector256<float>.Zero;
        for (int* end = offsets + kc; offsets < end; offsets++)
        {
            var b = Vector256.Create(x[*offsets]);
            c0 = Fma.MultiplyAdd(Vector256.Load(w), b, c0);
            c1 = Fma.MultiplyAdd(Vector256.Load(w + 8), b, c1);
            c2 = Fma.MultiplyAdd(Vector256.Load(w + quarter), b, c2);
            c3 = Fma.MultiplyAdd(Vector256.Load(w + quarter + 8), b, c3);
            c4 = Fma.MultiplyAdd(Vector256.Load(w + 2 * quarter), b, c4);
            c5 = Fma.MultiplyAdd(Vector256.Load(w + 2 * quarter + 8), b, c5);
            c6 = Fma.MultiplyAdd(Vector256.Load(w + 3 * quarter), b, c6);
            c7 = Fma.MultiplyAdd(Vector256.Load(w + 3 * quarter + 8), b, c7);
            w += Quarter;
        }

        Finish(c, c0, c1, accumulate);
        Finish(c + 16, c2, c3, accumulate);
        Finish(c + 32, c4, c5, accumulate);
        Finish(c + 48, c6, c7, accumulate);
    }

    /// <summary>
    /// Channels [0, 16) of c (64 floats per row) for TPixels.Count &lt;= 6 pixels, from a quarter's weights (16 floats per
    /// depth step). Generic over the count so the JIT compiles one loop per width with the unused pixels' code removed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunQuarter<TPixels>(float* w, float* x, int* columns, int* offsets, int kc, float* c, bool accumulate)
        where TPixels : struct, IPixelCount
    {
        int n = TPixels.Count;
        float* x0 = x + columns[0];
        float* x1 = n > 1 ? x + columns[1] : x0;
        float* x2 = n > 2 ? x + columns[2] : x0;
        float* x3 = n > 3 ? x + columns[3] : x0;
        float* x4 = n > 4 ? x + columns[4] : x0;
        float* x5 = n > 5 ? x + columns[5] : x0;
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;

        // The next depth block's weights (this quarter's line of the same depth step, 64 x kc floats on) are fetched
        // into L2 while this one runs: at batch 1 a 7x7 plane's 512-channel weights (9.4 MB) stream from memory, and one
        // line per 12 FMAs left too few misses in flight (the AVX-512 kernel, reading 4 lines per step, has 2.5x as
        // many). ResNet-18 b1, 1 thread, per-node minimum of 10-12 alternated single-run processes, load 9-23: the 7x7
        // 3x3 layers 2.79-2.80 ms without -> 2.47-2.52 fetching the next quarter into L1 -> 2.13-2.21 the next depth
        // block into L2 (two blocks or 1.5 ahead the same, 0.75 ahead 2.18-2.26, the next block into L1 2.37-2.43);
        // the 14x14 ones 2.21-2.22 -> 2.12 -> 2.07-2.15.
        nint ahead = kc * Channels;
        for (int* end = offsets + kc; offsets < end; offsets++)
        {
            nint at = *offsets;
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 8);
            var b = Vector256.Create(x0[at]);
            c0_0 = Fma.MultiplyAdd(w0, b, c0_0);
            c0_1 = Fma.MultiplyAdd(w1, b, c0_1);
            if (n > 1)
            {
                b = Vector256.Create(x1[at]);
                c1_0 = Fma.MultiplyAdd(w0, b, c1_0);
                c1_1 = Fma.MultiplyAdd(w1, b, c1_1);
            }

            if (n > 2)
            {
                b = Vector256.Create(x2[at]);
                c2_0 = Fma.MultiplyAdd(w0, b, c2_0);
                c2_1 = Fma.MultiplyAdd(w1, b, c2_1);
            }

            if (n > 3)
            {
                b = Vector256.Create(x3[at]);
                c3_0 = Fma.MultiplyAdd(w0, b, c3_0);
                c3_1 = Fma.MultiplyAdd(w1, b, c3_1);
            }

            if (n > 4)
            {
                b = Vector256.Create(x4[at]);
                c4_0 = Fma.MultiplyAdd(w0, b, c4_0);
                c4_1 = Fma.MultiplyAdd(w1, b, c4_1);
            }

            if (n > 5)
            {
                b = Vector256.Create(x5[at]);
                c5_0 = Fma.MultiplyAdd(w0, b, c5_0);
                c5_1 = Fma.MultiplyAdd(w1, b, c5_1);
            }

            Sse.Prefetch1(w + ahead);
            w += Quarter;
        }

        Finish(c + 0, c0_0, c0_1, accumulate);
        if (n > 1)
        {
            Finish(c + 64, c1_0, c1_1, accumulate);
        }

        if (n > 2)
        {
            Finish(c + 128, c2_0, c2_1, accumulate);
        }

        if (n > 3)
        {
            Finish(c + 192, c3_0, c3_1, accumulate);
        }

        if (n > 4)
        {
            Finish(c + 256, c4_0, c4_1, accumulate);
        }

        if (n > 5)
        {
            Finish(c + 320, c5_0, c5_1, accumulate);
        }
    }

    /// <summary>One pixel's 16 channels of c: its two accumulators, plus c's when accumulating.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* c, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector256.Load(c);
            hi += Vector256.Load(c + 8);
        }

        lo.Store(c);
        hi.Store(c + 8);
    }

    private interface IPixelCount
    {
        static abstract int Count { get; }
    }

    private struct Two : IPixelCount
    {
        public static int Count => 2;
    }

    private struct Three : IPixelCount
    {
        public static int Count => 3;
    }

    private struct Four : IPixelCount
    {
        public static int Count => 4;
    }

    private struct Five : IPixelCount
    {
        public static int Count => 5;
    }

    private struct Six : IPixelCount
    {
        public static int Count => 6;
    }
}
