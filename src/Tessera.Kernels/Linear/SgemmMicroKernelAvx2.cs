using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>The AVX2/FMA SGEMM micro-kernel: a register-blocked tile of two 8-lane vectors per row.</summary>
internal static unsafe partial class SgemmMicroKernelAvx2
{
    public const int Mr = 6;
    public const int Nr = 16;

    /// <summary>
    /// c[6x16] (+)= a-sliver * b-panel over <paramref name="kc"/> steps. The sliver holds Mr values per k, the
    /// panel Nr values per k (both packed, zero padded); every accumulator stays in a register for the whole loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        // Fetch the C tile now so its (strided, likely uncached) rows arrive while the k loop runs.
        for (int r = 0; r < Mr; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row + 0);
        }

        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
            c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
            var a1 = Vector256.Create(a[1]);
            c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
            c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
            var a2 = Vector256.Create(a[2]);
            c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
            c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
            var a3 = Vector256.Create(a[3]);
            c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
            c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
            var a4 = Vector256.Create(a[4]);
            c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
            c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
            var a5 = Vector256.Create(a[5]);
            c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
            c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
            a += 6;
            b += 16;
        }

        Store(c, ldc, accumulate, c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1);
    }

    /// <summary>Adds the tile's accumulators to C (or stores them when <paramref name="accumulate"/> is false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, nint ldc, bool accumulate,
        Vector256<float> c0_0, Vector256<float> c0_1, Vector256<float> c1_0, Vector256<float> c1_1,
        Vector256<float> c2_0, Vector256<float> c2_1, Vector256<float> c3_0, Vector256<float> c3_1,
        Vector256<float> c4_0, Vector256<float> c4_1, Vector256<float> c5_0, Vector256<float> c5_1)
    {
        if (accumulate)
        {
            Vector256.Store(c0_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c0_1 + Vector256.Load(c + 8), c + 8);
            c += ldc;
            Vector256.Store(c1_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c1_1 + Vector256.Load(c + 8), c + 8);
            c += ldc;
            Vector256.Store(c2_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c2_1 + Vector256.Load(c + 8), c + 8);
            c += ldc;
            Vector256.Store(c3_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c3_1 + Vector256.Load(c + 8), c + 8);
            c += ldc;
            Vector256.Store(c4_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c4_1 + Vector256.Load(c + 8), c + 8);
            c += ldc;
            Vector256.Store(c5_0 + Vector256.Load(c + 0), c + 0);
            Vector256.Store(c5_1 + Vector256.Load(c + 8), c + 8);
        }
        else
        {
            Vector256.Store(c0_0, c + 0);
            Vector256.Store(c0_1, c + 8);
            c += ldc;
            Vector256.Store(c1_0, c + 0);
            Vector256.Store(c1_1, c + 8);
            c += ldc;
            Vector256.Store(c2_0, c + 0);
            Vector256.Store(c2_1, c + 8);
            c += ldc;
            Vector256.Store(c3_0, c + 0);
            Vector256.Store(c3_1, c + 8);
            c += ldc;
            Vector256.Store(c4_0, c + 0);
            Vector256.Store(c4_1, c + 8);
            c += ldc;
            Vector256.Store(c5_0, c + 0);
            Vector256.Store(c5_1, c + 8);
        }
    }
}
