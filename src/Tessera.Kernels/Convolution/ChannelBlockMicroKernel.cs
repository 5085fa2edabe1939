using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// AVX-512 micro-kernel of <see cref="ChannelBlockedConv"/>: 64 output channels (four vectors) by 6 output pixels in 24
/// accumulators. Per depth step it loads the 64 weights of tap k and broadcasts one input float per pixel, read from
/// the pixel's own column of the (padded, stride-phased) layout at the tap's offset, so the 6 pixels need not be
/// neighbours: they may lie on two output rows or in two images, and no padding column is ever computed.
/// </summary>
internal static unsafe class ChannelBlockMicroKernel
{
    public const int Channels = 64;

    public const int Pixels = 6;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// c[p * 64 + ch] (+)= sum over k &lt; kc of w[k * 64 + ch] * x[columns[p] + offsets[k]], for the 6 pixels p and
    /// the 64 channels ch; each output sums its taps in k order.
    /// </summary>
    public static void Run(float* w, float* x, int* columns, int* offsets, int kc, float* c, bool accumulate)
    {
        var rows = new ChannelBlockTileRows(c);
        Run(w, x, columns, offsets, kc, c, accumulate, ref rows);
    }

    /// <summary>
    /// As <see cref="Run(float*, float*, int*, int*, int, float*, bool)"/>, but the tile (plus c's when
    /// <paramref name="accumulate"/>) goes to <paramref name="sink"/> instead of back into c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(float* w, float* x, int* columns, int* offsets, int kc, float* c, bool accumulate, ref TSink sink)
        where TSink : struct, IChannelBlockTileSink
    {
        float* x0 = x + columns[0], x1 = x + columns[1], x2 = x + columns[2];
        float* x3 = x + columns[3], x4 = x + columns[4], x5 = x + columns[5];
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero; var c0_2 = Vector512<float>.Zero; var c0_3 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero; var c1_2 = Vector512<float>.Zero; var c1_3 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero; var c2_2 = Vector512<float>.Zero; var c2_3 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero; var c3_2 = Vector512<float>.Zero; var c3_3 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero; var c4_2 = Vector512<float>.Zero; var c4_3 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero; var c5_2 = Vector512<float>.Zero; var c5_3 = Vector512<float>.Zero;
        // Two depth steps per iteration (the same products in the same order, a remainder step for odd kc) measured at
        // ResNet-18 b8 against this loop (issue 13a7, CPU per inference in alternated pairs): 0.95-1.05, median 0.97,
        // at 2 threads (6 pairs, load 41-59); 0.95-1.03, median 1.00, at 1 thread (4 rounds, load 29-35). Not kept: no
        // gain clear of the noise (the counter, pointer and compare it saves are a few of a step's ~40 instructions),
        // and the step's 30 lines would be written three times.
        // Fetching the next depth block's 4 lines of each step into L2, as the AVX2 kernel does (issue 13, c10): ResNet-18
        // b1, 1 thread, the 7x7 3x3 layers' per-node minimum over 10 alternated single-run processes 2.39-2.46 -> 2.29-2.36
        // ms (load 12-16), but at b8 16.8-17.0 -> 17.0-18.0 ms on 5 of the 6 7x7 and 14x14 layers (8 processes, load
        // 7-20), and the whole model's CPU per inference 1.009 (b1) and 1.008 (b8) of without (6 alternated pairs, load
        // 11-18): not kept.
        for (int k = 0; k < kc; k++)
        {
            nint at = offsets[k];
            var w0 = Vector512.Load(w);
            var w1 = Vector512.Load(w + 16);
            var w2 = Vector512.Load(w + 32);
            var w3 = Vector512.Load(w + 48);
            var b = Vector512.Create(x0[at]);
            c0_0 = Avx512F.FusedMultiplyAdd(w0, b, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(w1, b, c0_1);
            c0_2 = Avx512F.FusedMultiplyAdd(w2, b, c0_2);
            c0_3 = Avx512F.FusedMultiplyAdd(w3, b, c0_3);
            b = Vector512.Create(x1[at]);
            c1_0 = Avx512F.FusedMultiplyAdd(w0, b, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(w1, b, c1_1);
            c1_2 = Avx512F.FusedMultiplyAdd(w2, b, c1_2);
            c1_3 = Avx512F.FusedMultiplyAdd(w3, b, c1_3);
            b = Vector512.Create(x2[at]);
            c2_0 = Avx512F.FusedMultiplyAdd(w0, b, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(w1, b, c2_1);
            c2_2 = Avx512F.FusedMultiplyAdd(w2, b, c2_2);
            c2_3 = Avx512F.FusedMultiplyAdd(w3, b, c2_3);
            b = Vector512.Create(x3[at]);
            c3_0 = Avx512F.FusedMultiplyAdd(w0, b, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(w1, b, c3_1);
            c3_2 = Avx512F.FusedMultiplyAdd(w2, b, c3_2);
            c3_3 = Avx512F.FusedMultiplyAdd(w3, b, c3_3);
            b = Vector512.Create(x4[at]);
            c4_0 = Avx512F.FusedMultiplyAdd(w0, b, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(w1, b, c4_1);
            c4_2 = Avx512F.FusedMultiplyAdd(w2, b, c4_2);
            c4_3 = Avx512F.FusedMultiplyAdd(w3, b, c4_3);
            b = Vector512.Create(x5[at]);
            c5_0 = Avx512F.FusedMultiplyAdd(w0, b, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(w1, b, c5_1);
            c5_2 = Avx512F.FusedMultiplyAdd(w2, b, c5_2);
            c5_3 = Avx512F.FusedMultiplyAdd(w3, b, c5_3);
            w += Channels;
        }

        if (accumulate)
        {
            c0_0 += Vector512.Load(c + 0); c0_1 += Vector512.Load(c + 16); c0_2 += Vector512.Load(c + 32); c0_3 += Vector512.Load(c + 48);
            c1_0 += Vector512.Load(c + 64); c1_1 += Vector512.Load(c + 80); c1_2 += Vector512.Load(c + 96); c1_3 += Vector512.Load(c + 112);
            c2_0 += Vector512.Load(c + 128); c2_1 += Vector512.Load(c + 144); c2_2 += Vector512.Load(c + 160); c2_3 += Vector512.Load(c + 176);
            c3_0 += Vector512.Load(c + 192); c3_1 += Vector512.Load(c + 208); c3_2 += Vector512.Load(c + 224); c3_3 += Vector512.Load(c + 240);
            c4_0 += Vector512.Load(c + 256); c4_1 += Vector512.Load(c + 272); c4_2 += Vector512.Load(c + 288); c4_3 += Vector512.Load(c + 304);
            c5_0 += Vector512.Load(c + 320); c5_1 += Vector512.Load(c + 336); c5_2 += Vector512.Load(c + 352); c5_3 += Vector512.Load(c + 368);
        }

        sink.Store(0, 0, c0_0); sink.Store(0, 1, c0_1); sink.Store(0, 2, c0_2); sink.Store(0, 3, c0_3);
        sink.Store(1, 0, c1_0); sink.Store(1, 1, c1_1); sink.Store(1, 2, c1_2); sink.Store(1, 3, c1_3);
        sink.Store(2, 0, c2_0); sink.Store(2, 1, c2_1); sink.Store(2, 2, c2_2); sink.Store(2, 3, c2_3);
        sink.Store(3, 0, c3_0); sink.Store(3, 1, c3_1); sink.Store(3, 2, c3_2); sink.Store(3, 3, c3_3);
        sink.Store(4, 0, c4_0); sink.Store(4, 1, c4_1); sink.Store(4, 2, c4_2); sink.Store(4, 3, c4_3);
        sink.Store(5, 0, c5_0); sink.Store(5, 1, c5_1); sink.Store(5, 2, c5_2); sink.Store(5, 3, c5_3);
    }
}
