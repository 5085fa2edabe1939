using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Linear;

/// <summary>
/// The AVX2 micro-kernel reading A where it lies (row-major, unscaled) instead of from a packed sliver, as ONNX
/// Runtime's MLAS FMA3 kernel does: each k step broadcasts one value from each of the six rows, the same load count
/// as from a sliver. Packing A costs about a cycle per element against N/16 cycles of multiply-adds per element, so
/// for the narrow products of a transformer (N = 128 projections, attention's N = 32..64 score-times-value) the pack
/// was 10-30% of the product (see <see cref="SgemmStep.StreamsA"/>).
/// </summary>
internal static unsafe partial class SgemmMicroKernelAvx2
{
    /// <summary>
    /// c[6x16] (+)= A[rows x kc] * b-panel, where row r of A starts at a + r*lda. Only the first <paramref name="rows"/>
    /// rows are read: the others repeat the last row, so C rows past them hold junk the caller does not store. Each
    /// element is the same multiply-add chain in the same k order as <see cref="Run"/> over a packed (alpha = 1)
    /// sliver, so the two give the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRowMajorA(float* a, nint lda, int rows, float* b, float* c, nint ldc, int kc, bool accumulate)
    {
        float* a0 = a;
        float* a1 = a + (rows > 1 ? lda : 0);
        float* a2 = a + (rows > 2 ? 2 * lda : (rows - 1) * lda);
        float* a3 = a + (rows > 3 ? 3 * lda : (rows - 1) * lda);
        float* a4 = a + (rows > 4 ? 4 * lda : (rows - 1) * lda);
        float* a5 = a + (rows > 5 ? 5 * lda : (rows - 1) * lda);
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        for (int r = 0; r < Mr; r++)
        {
            Sse.Prefetch0(c + r * ldc);
        }

        for (nint k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[k]);
            c0_0 = Fma.MultiplyAdd(x, b0, c0_0);
            c0_1 = Fma.MultiplyAdd(x, b1, c0_1);
            x = Vector256.Create(a1[k]);
            c1_0 = Fma.MultiplyAdd(x, b0, c1_0);
            c1_1 = Fma.MultiplyAdd(x, b1, c1_1);
            x = Vector256.Create(a2[k]);
            c2_0 = Fma.MultiplyAdd(x, b0, c2_0);
            c2_1 = Fma.MultiplyAdd(x, b1, c2_1);
            x = Vector256.Create(a3[k]);
            c3_0 = Fma.MultiplyAdd(x, b0, c3_0);
            c3_1 = Fma.MultiplyAdd(x, b1, c3_1);
            x = Vector256.Create(a4[k]);
            c4_0 = Fma.MultiplyAdd(x, b0, c4_0);
            c4_1 = Fma.MultiplyAdd(x, b1, c4_1);
            x = Vector256.Create(a5[k]);
            c5_0 = Fma.MultiplyAdd(x, b0, c5_0);
            c5_1 = Fma.MultiplyAdd(x, b1, c5_1);
            b += 16;
        }

        Store(c, ldc, accumulate, c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1);
    }
}
