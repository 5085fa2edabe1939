using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>
/// The AVX-512 micro-kernel reading A where it lies (row-major, unscaled) instead of from a packed sliver: each k step
/// broadcasts one value from each of the eight rows (see <see cref="SgemmMicroKernelAvx2.RunRowMajorA"/>).
/// </summary>
internal static unsafe partial class SgemmMicroKernelAvx512
{
    /// <summary>
    /// c[8x48] (+)= A[rows x kc] * b-panel, where row r of A starts at a + r*lda. Only the first <paramref name="rows"/>
    /// rows are read: the others repeat the last row, so C rows past them hold junk the caller does not store. The
    /// same multiply-add chain per element as <see cref="Run"/> over a packed (alpha = 1) sliver, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRowMajorA(float* a, nint lda, int rows, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        float* a0 = a;
        float* a1 = a + (rows > 1 ? 1 * lda : (rows - 1) * lda);
        float* a2 = a + (rows > 2 ? 2 * lda : (rows - 1) * lda);
        float* a3 = a + (rows > 3 ? 3 * lda : (rows - 1) * lda);
        float* a4 = a + (rows > 4 ? 4 * lda : (rows - 1) * lda);
        float* a5 = a + (rows > 5 ? 5 * lda : (rows - 1) * lda);
        float* a6 = a + (rows > 6 ? 6 * lda : (rows - 1) * lda);
        float* a7 = a + (rows > 7 ? 7 * lda : (rows - 1) * lda);
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero; var c0_2 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero; var c1_2 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero; var c2_2 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero; var c3_2 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero; var c4_2 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero; var c5_2 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero; var c6_2 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero; var c7_2 = Vector512<float>.Zero;
        for (int r = 0; r < Mr; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row + 0);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + 32);
        }

        for (nint k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var x = Vector512.Create(a0[k]);
            c0_0 = Avx512F.FusedMultiplyAdd(x, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(x, b1, c0_1);
            c0_2 = Avx512F.FusedMultiplyAdd(x, b2, c0_2);
            x = Vector512.Create(a1[k]);
            c1_0 = Avx512F.FusedMultiplyAdd(x, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(x, b1, c1_1);
            c1_2 = Avx512F.FusedMultiplyAdd(x, b2, c1_2);
            x = Vector512.Create(a2[k]);
            c2_0 = Avx512F.FusedMultiplyAdd(x, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(x, b1, c2_1);
            c2_2 = Avx512F.FusedMultiplyAdd(x, b2, c2_2);
            x = Vector512.Create(a3[k]);
            c3_0 = Avx512F.FusedMultiplyAdd(x, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(x, b1, c3_1);
            c3_2 = Avx512F.FusedMultiplyAdd(x, b2, c3_2);
            x = Vector512.Create(a4[k]);
            c4_0 = Avx512F.FusedMultiplyAdd(x, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(x, b1, c4_1);
            c4_2 = Avx512F.FusedMultiplyAdd(x, b2, c4_2);
            x = Vector512.Create(a5[k]);
            c5_0 = Avx512F.FusedMultiplyAdd(x, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(x, b1, c5_1);
            c5_2 = Avx512F.FusedMultiplyAdd(x, b2, c5_2);
            x = Vector512.Create(a6[k]);
            c6_0 = Avx512F.FusedMultiplyAdd(x, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(x, b1, c6_1);
            c6_2 = Avx512F.FusedMultiplyAdd(x, b2, c6_2);
            x = Vector512.Create(a7[k]);
            c7_0 = Avx512F.FusedMultiplyAdd(x, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(x, b1, c7_1);
            c7_2 = Avx512F.FusedMultiplyAdd(x, b2, c7_2);
            b += 48;
        }

        Store(c, ldc, accumulate, c0_0, c0_1, c0_2, c1_0, c1_1, c1_2, c2_0, c2_1, c2_2, c3_0, c3_1, c3_2, c4_0, c4_1, c4_2, c5_0, c5_1, c5_2, c6_0, c6_1, c6_2, c7_0, c7_1, c7_2);
    }
}
