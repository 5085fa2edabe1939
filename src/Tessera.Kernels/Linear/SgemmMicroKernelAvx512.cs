using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>The AVX-512 SGEMM micro-kernel: a register-blocked tile of two 16-lane vectors per row, one FMA per product.</summary>
internal static unsafe class SgemmMicroKernelAvx512
{
    public const int Mr = 14;
    public const int Nr = 32;

    /// <summary>
    /// c[14x32] (+)= a-sliver * b-panel over <paramref name="kc"/> steps. The sliver holds Mr values per k, the
    /// panel Nr values per k (both packed, zero padded); every accumulator stays in a register for the whole loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        var c12_0 = Vector512<float>.Zero; var c12_1 = Vector512<float>.Zero;
        var c13_0 = Vector512<float>.Zero; var c13_1 = Vector512<float>.Zero;
        // Fetch the C tile now so its (strided, likely uncached) rows arrive while the k loop runs.
        for (int r = 0; r < Mr; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row + 0);
            Sse.Prefetch0(row + 16);
        }

        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
            var a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
            var a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
            var a8 = Vector512.Create(a[8]);
            c8_0 = Avx512F.FusedMultiplyAdd(a8, b0, c8_0);
            c8_1 = Avx512F.FusedMultiplyAdd(a8, b1, c8_1);
            var a9 = Vector512.Create(a[9]);
            c9_0 = Avx512F.FusedMultiplyAdd(a9, b0, c9_0);
            c9_1 = Avx512F.FusedMultiplyAdd(a9, b1, c9_1);
            var a10 = Vector512.Create(a[10]);
            c10_0 = Avx512F.FusedMultiplyAdd(a10, b0, c10_0);
            c10_1 = Avx512F.FusedMultiplyAdd(a10, b1, c10_1);
            var a11 = Vector512.Create(a[11]);
            c11_0 = Avx512F.FusedMultiplyAdd(a11, b0, c11_0);
            c11_1 = Avx512F.FusedMultiplyAdd(a11, b1, c11_1);
            var a12 = Vector512.Create(a[12]);
            c12_0 = Avx512F.FusedMultiplyAdd(a12, b0, c12_0);
            c12_1 = Avx512F.FusedMultiplyAdd(a12, b1, c12_1);
            var a13 = Vector512.Create(a[13]);
            c13_0 = Avx512F.FusedMultiplyAdd(a13, b0, c13_0);
            c13_1 = Avx512F.FusedMultiplyAdd(a13, b1, c13_1);
            a += 14;
            b += 32;
        }

        if (accumulate)
        {
            Vector512.Store(c0_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c0_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c1_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c1_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c2_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c2_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c3_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c3_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c4_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c4_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c5_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c5_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c6_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c6_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c7_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c7_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c8_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c8_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c9_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c9_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c10_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c10_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c11_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c11_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c12_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c12_1 + Vector512.Load(c + 16), c + 16);
            c += ldc;
            Vector512.Store(c13_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c13_1 + Vector512.Load(c + 16), c + 16);
        }
        else
        {
            Vector512.Store(c0_0, c + 0);
            Vector512.Store(c0_1, c + 16);
            c += ldc;
            Vector512.Store(c1_0, c + 0);
            Vector512.Store(c1_1, c + 16);
            c += ldc;
            Vector512.Store(c2_0, c + 0);
            Vector512.Store(c2_1, c + 16);
            c += ldc;
            Vector512.Store(c3_0, c + 0);
            Vector512.Store(c3_1, c + 16);
            c += ldc;
            Vector512.Store(c4_0, c + 0);
            Vector512.Store(c4_1, c + 16);
            c += ldc;
            Vector512.Store(c5_0, c + 0);
            Vector512.Store(c5_1, c + 16);
            c += ldc;
            Vector512.Store(c6_0, c + 0);
            Vector512.Store(c6_1, c + 16);
            c += ldc;
            Vector512.Store(c7_0, c + 0);
            Vector512.Store(c7_1, c + 16);
            c += ldc;
            Vector512.Store(c8_0, c + 0);
            Vector512.Store(c8_1, c + 16);
            c += ldc;
            Vector512.Store(c9_0, c + 0);
            Vector512.Store(c9_1, c + 16);
            c += ldc;
            Vector512.Store(c10_0, c + 0);
            Vector512.Store(c10_1, c + 16);
            c += ldc;
            Vector512.Store(c11_0, c + 0);
            Vector512.Store(c11_1, c + 16);
            c += ldc;
            Vector512.Store(c12_0, c + 0);
            Vector512.Store(c12_1, c + 16);
            c += ldc;
            Vector512.Store(c13_0, c + 0);
            Vector512.Store(c13_1, c + 16);
        }
    }
}
