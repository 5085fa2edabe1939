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
    /// the 64 channels ch, from one depth block of quarter-major weights w; each output sums its taps in k order.
    /// Quarter by quarter, tile by tile within a quarter: the quarter's weights stay in L1 across the tiles.
    /// </summary>
    public static void Sweep(float* w, float* x, int* columns, int tiles, int* offsets, int kc, float* c, bool accumulate)
    {
        for (int q = 0; q < Channels; q += Quarter)
        {
            for (int t = 0; t < tiles; t++)
            {
                RunQuarter(w + q * kc, x, columns + t * Pixels, offsets, kc, c + t * Pixels * Channels + q, accumulate);
            }
        }
    }

    /// <summary>Channels [0, 16) of c (64 floats per row) for 6 pixels, from a quarter's weights (16 floats per depth step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunQuarter(float* w, float* x, int* columns, int* offsets, int kc, float* c, bool accumulate)
    {
        float* x0 = x + columns[0], x1 = x + columns[1], x2 = x + columns[2];
        float* x3 = x + columns[3], x4 = x + columns[4], x5 = x + columns[5];
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        nint ahead = kc * Quarter;
        for (int* end = offsets + kc; offsets < end; offsets++)
        {
            nint at = *offsets;
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 8);
            var b = Vector256.Create(x0[at]);
            c0_0 = Fma.MultiplyAdd(w0, b, c0_0);
            c0_1 = Fma.MultiplyAdd(w1, b, c0_1);
            b = Vector256.Create(x1[at]);
            c1_0 = Fma.MultiplyAdd(w0, b, c1_0);
            c1_1 = Fma.MultiplyAdd(w1, b, c1_1);
            b = Vector256.Create(x2[at]);
            c2_0 = Fma.MultiplyAdd(w0, b, c2_0);
            c2_1 = Fma.MultiplyAdd(w1, b, c2_1);
            b = Vector256.Create(x3[at]);
            c3_0 = Fma.MultiplyAdd(w0, b, c3_0);
            c3_1 = Fma.MultiplyAdd(w1, b, c3_1);
            b = Vector256.Create(x4[at]);
            c4_0 = Fma.MultiplyAdd(w0, b, c4_0);
            c4_1 = Fma.MultiplyAdd(w1, b, c4_1);
            b = Vector256.Create(x5[at]);
            c5_0 = Fma.MultiplyAdd(w0, b, c5_0);
            c5_1 = Fma.MultiplyAdd(w1, b, c5_1);
            Sse.Prefetch0(w + ahead);
            w += Quarter;
        }

        if (accumulate)
        {
            c0_0 += Vector256.Load(c + 0); c0_1 += Vector256.Load(c + 8);
            c1_0 += Vector256.Load(c + 64); c1_1 += Vector256.Load(c + 72);
            c2_0 += Vector256.Load(c + 128); c2_1 += Vector256.Load(c + 136);
            c3_0 += Vector256.Load(c + 192); c3_1 += Vector256.Load(c + 200);
            c4_0 += Vector256.Load(c + 256); c4_1 += Vector256.Load(c + 264);
            c5_0 += Vector256.Load(c + 320); c5_1 += Vector256.Load(c + 328);
        }

        c0_0.Store(c + 0); c0_1.Store(c + 8);
        c1_0.Store(c + 64); c1_1.Store(c + 72);
        c2_0.Store(c + 128); c2_1.Store(c + 136);
        c3_0.Store(c + 192); c3_1.Store(c + 200);
        c4_0.Store(c + 256); c4_1.Store(c + 264);
        c5_0.Store(c + 320); c5_1.Store(c + 328);
    }
}
