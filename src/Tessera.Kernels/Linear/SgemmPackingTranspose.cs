using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Packs a sliver of row-major rows (each row contiguous in k) into k-major order with 8x8 register transposes:
/// a scalar strided copy costs several cycles per element and was a visible share of a large GEMM.
/// </summary>
internal static unsafe class SgemmPackingTranspose
{
    public static bool IsSupported => Avx.IsSupported;

    /// <summary>dst[k*mr + r] = alpha * src[r*lda + k] for r &lt; rows, k &lt; kc; rows rows..mr-1 are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows(float* src, long lda, int rows, int kc, float alpha, int mr, float* dst)
    {
        var scale = Vector256.Create(alpha);
        for (int g = 0; g < mr; g += 8)
        {
            int lanes = Math.Min(8, mr - g);
            int valid = Math.Clamp(rows - g, 0, 8);
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(lanes)).AsSingle();
            float* s0 = src + (long)g * lda;
            float* d = dst + g;
            int k = 0;
            for (; k + 8 <= kc; k += 8)
            {
                var r0 = Row(s0, lda, 0, valid, k); var r1 = Row(s0, lda, 1, valid, k);
                var r2 = Row(s0, lda, 2, valid, k); var r3 = Row(s0, lda, 3, valid, k);
                var r4 = Row(s0, lda, 4, valid, k); var r5 = Row(s0, lda, 5, valid, k);
                var r6 = Row(s0, lda, 6, valid, k); var r7 = Row(s0, lda, 7, valid, k);
                var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
                var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
                var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
                var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
                var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
                var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
                var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
                var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
                float* dk = d + (long)k * mr;
                Store(Avx.Permute2x128(u0, u4, 0x20) * scale, dk, lanes, mask);
                Store(Avx.Permute2x128(u1, u5, 0x20) * scale, dk + mr, lanes, mask);
                Store(Avx.Permute2x128(u2, u6, 0x20) * scale, dk + 2 * mr, lanes, mask);
                Store(Avx.Permute2x128(u3, u7, 0x20) * scale, dk + 3 * mr, lanes, mask);
                Store(Avx.Permute2x128(u0, u4, 0x31) * scale, dk + 4 * mr, lanes, mask);
                Store(Avx.Permute2x128(u1, u5, 0x31) * scale, dk + 5 * mr, lanes, mask);
                Store(Avx.Permute2x128(u2, u6, 0x31) * scale, dk + 6 * mr, lanes, mask);
                Store(Avx.Permute2x128(u3, u7, 0x31) * scale, dk + 7 * mr, lanes, mask);
            }

            for (; k < kc; k++)
            {
                float* dk = d + (long)k * mr;
                for (int r = 0; r < lanes; r++)
                {
                    dk[r] = r < valid ? alpha * s0[r * lda + k] : 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(float* s0, long lda, int r, int valid, int k) =>
        r < valid ? Vector256.Load(s0 + r * lda + k) : Vector256<float>.Zero;

    /// <summary>
    /// The first <paramref name="lanes"/> floats of v to dst. AVX2's 6-row slivers and the portable 4-row ones take
    /// plain 128- and 64-bit stores: a masked store (vmaskmovps) is microcoded on AMD's cores, and every store of a
    /// 6-row sliver would be one (7% of a BERT encoder's time on the AVX2 path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> v, float* dst, int lanes, Vector256<float> mask)
    {
        switch (lanes)
        {
            case 8:
                Vector256.Store(v, dst);
                break;
            case 6:
                Vector128.Store(v.GetLower(), dst);
                Sse2.StoreScalar((double*)(dst + 4), v.GetUpper().AsDouble());
                break;
            case 4:
                Vector128.Store(v.GetLower(), dst);
                break;
            default:
                Avx.MaskStore(dst, mask, v);
                break;
        }
    }
}
