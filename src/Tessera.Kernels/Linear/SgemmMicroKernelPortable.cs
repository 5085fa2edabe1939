using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Linear;

/// <summary>
/// The portable SGEMM micro-kernel over Vector128 (SSE, NEON or software), for machines without AVX2. Its multiply-adds
/// are MultiplyAddEstimate, as in the small-matrix paths (<see cref="SgemmSmall"/>, <see cref="SgemmPackedRows"/>):
/// fused where the hardware has FMA (NEON always), separate where it has not, and the same in every path, so a row's
/// bits do not depend on which path its batch size takes (software FMA, the alternative, is many times slower).
/// </summary>
internal static unsafe class SgemmMicroKernelPortable
{
    public const int Mr = 4;
    public const int Nr = 8;

    /// <summary>
    /// c[4x8] (+)= a-sliver * b-panel over <paramref name="kc"/> steps. The sliver holds Mr values per k, the
    /// panel Nr values per k (both packed, zero padded); every accumulator stays in a register for the whole loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* a, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        var c0_0 = Vector128<float>.Zero; var c0_1 = Vector128<float>.Zero;
        var c1_0 = Vector128<float>.Zero; var c1_1 = Vector128<float>.Zero;
        var c2_0 = Vector128<float>.Zero; var c2_1 = Vector128<float>.Zero;
        var c3_0 = Vector128<float>.Zero; var c3_1 = Vector128<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector128.Load(b + 0);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c0_0 = Vector128.MultiplyAddEstimate(a0, b0, c0_0);
            c0_1 = Vector128.MultiplyAddEstimate(a0, b1, c0_1);
            var a1 = Vector128.Create(a[1]);
            c1_0 = Vector128.MultiplyAddEstimate(a1, b0, c1_0);
            c1_1 = Vector128.MultiplyAddEstimate(a1, b1, c1_1);
            var a2 = Vector128.Create(a[2]);
            c2_0 = Vector128.MultiplyAddEstimate(a2, b0, c2_0);
            c2_1 = Vector128.MultiplyAddEstimate(a2, b1, c2_1);
            var a3 = Vector128.Create(a[3]);
            c3_0 = Vector128.MultiplyAddEstimate(a3, b0, c3_0);
            c3_1 = Vector128.MultiplyAddEstimate(a3, b1, c3_1);
            a += 4;
            b += 8;
        }

        if (accumulate)
        {
            Vector128.Store(c0_0 + Vector128.Load(c + 0), c + 0);
            Vector128.Store(c0_1 + Vector128.Load(c + 4), c + 4);
            c += ldc;
            Vector128.Store(c1_0 + Vector128.Load(c + 0), c + 0);
            Vector128.Store(c1_1 + Vector128.Load(c + 4), c + 4);
            c += ldc;
            Vector128.Store(c2_0 + Vector128.Load(c + 0), c + 0);
            Vector128.Store(c2_1 + Vector128.Load(c + 4), c + 4);
            c += ldc;
            Vector128.Store(c3_0 + Vector128.Load(c + 0), c + 0);
            Vector128.Store(c3_1 + Vector128.Load(c + 4), c + 4);
        }
        else
        {
            Vector128.Store(c0_0, c + 0);
            Vector128.Store(c0_1, c + 4);
            c += ldc;
            Vector128.Store(c1_0, c + 0);
            Vector128.Store(c1_1, c + 4);
            c += ldc;
            Vector128.Store(c2_0, c + 0);
            Vector128.Store(c2_1, c + 4);
            c += ldc;
            Vector128.Store(c3_0, c + 0);
            Vector128.Store(c3_1, c + 4);
        }
    }
}
