using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>
/// The AVX-512 SGEMM micro-kernel: 8 rows of three 16-lane vectors (24 accumulators, 3 loads of B and 8 broadcasts of A
/// per 24 FMAs). Eight rows divide the channel counts of most convolutions and transformer widths exactly, where the
/// earlier 14-row tile padded a 64-channel GEMM to 70 rows.
/// </summary>
internal static unsafe partial class SgemmMicroKernelAvx512
{
    public const int Mr = 8;
    public const int Nr = 48;

    /// <summary>
    /// c[8x48] (+)= a-sliver * b-panel over <paramref name="kc"/> steps. The sliver holds Mr values per k, the
    /// panel Nr values per k (both packed, zero padded); every accumulator stays in a register for the whole loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero; var c0_2 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero; var c1_2 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero; var c2_2 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero; var c3_2 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero; var c4_2 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero; var c5_2 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero; var c6_2 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero; var c7_2 = Vector512<float>.Zero;

        // Fetch the C tile now so its (strided, likely uncached) rows arrive while the k loop runs.
        for (int r = 0; r < Mr; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row + 0);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + 32);
        }

        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            c0_2 = Avx512F.FusedMultiplyAdd(a0, b2, c0_2);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            c1_2 = Avx512F.FusedMultiplyAdd(a1, b2, c1_2);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            c2_2 = Avx512F.FusedMultiplyAdd(a2, b2, c2_2);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            c3_2 = Avx512F.FusedMultiplyAdd(a3, b2, c3_2);
            var a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
            c4_2 = Avx512F.FusedMultiplyAdd(a4, b2, c4_2);
            var a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
            c5_2 = Avx512F.FusedMultiplyAdd(a5, b2, c5_2);
            var a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
            c6_2 = Avx512F.FusedMultiplyAdd(a6, b2, c6_2);
            var a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
            c7_2 = Avx512F.FusedMultiplyAdd(a7, b2, c7_2);
            a += 8;
            b += 48;
        }

        Store(c, ldc, accumulate, c0_0, c0_1, c0_2, c1_0, c1_1, c1_2, c2_0, c2_1, c2_2, c3_0, c3_1, c3_2, c4_0, c4_1, c4_2, c5_0, c5_1, c5_2, c6_0, c6_1, c6_2, c7_0, c7_1, c7_2);
    }

    /// <summary>Adds the tile's accumulators to C (or stores them when <paramref name="accumulate"/> is false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, nint ldc, bool accumulate,
        Vector512<float> c0_0, Vector512<float> c0_1, Vector512<float> c0_2,
        Vector512<float> c1_0, Vector512<float> c1_1, Vector512<float> c1_2,
        Vector512<float> c2_0, Vector512<float> c2_1, Vector512<float> c2_2,
        Vector512<float> c3_0, Vector512<float> c3_1, Vector512<float> c3_2,
        Vector512<float> c4_0, Vector512<float> c4_1, Vector512<float> c4_2,
        Vector512<float> c5_0, Vector512<float> c5_1, Vector512<float> c5_2,
        Vector512<float> c6_0, Vector512<float> c6_1, Vector512<float> c6_2,
        Vector512<float> c7_0, Vector512<float> c7_1, Vector512<float> c7_2)
    {
        if (accumulate)
        {
            Vector512.Store(c0_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c0_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c0_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c1_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c1_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c1_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c2_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c2_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c2_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c3_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c3_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c3_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c4_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c4_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c4_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c5_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c5_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c5_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c6_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c6_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c6_2 + Vector512.Load(c + 32), c + 32);
            c += ldc;
            Vector512.Store(c7_0 + Vector512.Load(c + 0), c + 0);
            Vector512.Store(c7_1 + Vector512.Load(c + 16), c + 16);
            Vector512.Store(c7_2 + Vector512.Load(c + 32), c + 32);
        }
        else
        {
            Vector512.Store(c0_0, c + 0);
            Vector512.Store(c0_1, c + 16);
            Vector512.Store(c0_2, c + 32);
            c += ldc;
            Vector512.Store(c1_0, c + 0);
            Vector512.Store(c1_1, c + 16);
            Vector512.Store(c1_2, c + 32);
            c += ldc;
            Vector512.Store(c2_0, c + 0);
            Vector512.Store(c2_1, c + 16);
            Vector512.Store(c2_2, c + 32);
            c += ldc;
            Vector512.Store(c3_0, c + 0);
            Vector512.Store(c3_1, c + 16);
            Vector512.Store(c3_2, c + 32);
            c += ldc;
            Vector512.Store(c4_0, c + 0);
            Vector512.Store(c4_1, c + 16);
            Vector512.Store(c4_2, c + 32);
            c += ldc;
            Vector512.Store(c5_0, c + 0);
            Vector512.Store(c5_1, c + 16);
            Vector512.Store(c5_2, c + 32);
            c += ldc;
            Vector512.Store(c6_0, c + 0);
            Vector512.Store(c6_1, c + 16);
            Vector512.Store(c6_2, c + 32);
            c += ldc;
            Vector512.Store(c7_0, c + 0);
            Vector512.Store(c7_1, c + 16);
            Vector512.Store(c7_2, c + 32);
        }
    }
}
