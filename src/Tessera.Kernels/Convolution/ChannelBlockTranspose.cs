using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// The 16 x 16 float transpose that turns <see cref="ChannelBlockedConv"/>'s pixel-major tiles into channel rows (and
/// planar channels into interleaved ones): AVX-512 shuffles, or with AVX2 four 8 x 8 transposes.
/// </summary>
internal static unsafe class ChannelBlockTranspose
{
    /// <summary>dst[j * 16 + i] = src[i * stride + j] for i, j &lt; 16 (64 shuffles, no gathers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* src, int stride, float* dst)
    {
        if (!Avx512F.IsSupported)
        {
            for (int i = 0; i < 16; i += 8)
            {
                for (int j = 0; j < 16; j += 8)
                {
                    Transpose8(src + (long)i * stride + j, stride, dst + j * 16 + i);
                }
            }

            return;
        }

        // Pairs of rows interleaved, then 4-row groups: u[4g + q] holds, per 128-bit lane L, column 4L + q of rows 4g..4g+3.
        var u = stackalloc Vector512<float>[16];
        for (int g = 0; g < 4; g++)
        {
            float* rows = src + (long)(4 * g) * stride;
            var r0 = Vector512.Load(rows);
            var r1 = Vector512.Load(rows + stride);
            var r2 = Vector512.Load(rows + 2 * stride);
            var r3 = Vector512.Load(rows + 3 * stride);
            var t0 = Avx512F.UnpackLow(r0, r1);
            var t1 = Avx512F.UnpackHigh(r0, r1);
            var t2 = Avx512F.UnpackLow(r2, r3);
            var t3 = Avx512F.UnpackHigh(r2, r3);
            u[4 * g] = Avx512F.Shuffle(t0, t2, 0x44);
            u[4 * g + 1] = Avx512F.Shuffle(t0, t2, 0xEE);
            u[4 * g + 2] = Avx512F.Shuffle(t1, t3, 0x44);
            u[4 * g + 3] = Avx512F.Shuffle(t1, t3, 0xEE);
        }

        // Column 4L + q = lane L of u[q], u[4 + q], u[8 + q], u[12 + q].
        for (int q = 0; q < 4; q++)
        {
            var v0 = Avx512F.Shuffle4x128(u[q], u[4 + q], 0x44);
            var v1 = Avx512F.Shuffle4x128(u[q], u[4 + q], 0xEE);
            var w0 = Avx512F.Shuffle4x128(u[8 + q], u[12 + q], 0x44);
            var w1 = Avx512F.Shuffle4x128(u[8 + q], u[12 + q], 0xEE);
            Avx512F.Shuffle4x128(v0, w0, 0x88).Store(dst + (0 + q) * 16);
            Avx512F.Shuffle4x128(v0, w0, 0xDD).Store(dst + (4 + q) * 16);
            Avx512F.Shuffle4x128(v1, w1, 0x88).Store(dst + (8 + q) * 16);
            Avx512F.Shuffle4x128(v1, w1, 0xDD).Store(dst + (12 + q) * 16);
        }
    }

    /// <summary>dst[j * 16 + i] = src[i * stride + j] for i, j &lt; 8, with AVX: 24 shuffles.</summary>
    private static void Transpose8(float* src, int stride, float* dst)
    {
        // Rows paired, then 4-row groups: s[q] holds column q of rows 0..3 in its low lane, column 4 + q in its high lane.
        var t0 = Avx.UnpackLow(Vector256.Load(src), Vector256.Load(src + stride));
        var t1 = Avx.UnpackHigh(Vector256.Load(src), Vector256.Load(src + stride));
        var t2 = Avx.UnpackLow(Vector256.Load(src + 2 * stride), Vector256.Load(src + 3 * stride));
        var t3 = Avx.UnpackHigh(Vector256.Load(src + 2 * stride), Vector256.Load(src + 3 * stride));
        var t4 = Avx.UnpackLow(Vector256.Load(src + 4 * stride), Vector256.Load(src + 5 * stride));
        var t5 = Avx.UnpackHigh(Vector256.Load(src + 4 * stride), Vector256.Load(src + 5 * stride));
        var t6 = Avx.UnpackLow(Vector256.Load(src + 6 * stride), Vector256.Load(src + 7 * stride));
        var t7 = Avx.UnpackHigh(Vector256.Load(src + 6 * stride), Vector256.Load(src + 7 * stride));
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(s0, s4, 0x20).Store(dst);
        Avx.Permute2x128(s1, s5, 0x20).Store(dst + 16);
        Avx.Permute2x128(s2, s6, 0x20).Store(dst + 32);
        Avx.Permute2x128(s3, s7, 0x20).Store(dst + 48);
        Avx.Permute2x128(s0, s4, 0x31).Store(dst + 64);
        Avx.Permute2x128(s1, s5, 0x31).Store(dst + 80);
        Avx.Permute2x128(s2, s6, 0x31).Store(dst + 96);
        Avx.Permute2x128(s3, s7, 0x31).Store(dst + 112);
    }
}
