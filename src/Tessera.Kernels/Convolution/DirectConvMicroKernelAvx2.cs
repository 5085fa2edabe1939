using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// AVX2/FMA micro-kernels of the direct convolution: the AVX2 SGEMM's 6-row register tile (12 of the 16 vector
/// registers hold the 6 x 16 accumulators), with row k of B read straight from the (padded, stride-phased) input at a
/// per-k offset instead of from a packed panel, as <see cref="DirectConvMicroKernel"/> does with AVX-512.
/// </summary>
internal static unsafe class DirectConvMicroKernelAvx2
{
    public const int Mr = 6;

    /// <summary>Columns of the wide tile.</summary>
    public const int Nr = 16;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>c[6 x width] (+)= a-sliver * B for the columns [0, width) (a multiple of 8) at x and c: 16 at a time, then 8.</summary>
    public static void Sweep(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate, int width)
    {
        int j = 0;
        for (; j + Nr <= width; j += Nr)
        {
            Run2(a, x + j, offsets, kc, c + j, ldc, accumulate);
        }

        for (; j < width; j += 8)
        {
            Run1(a, x + j, offsets, kc, c + j, ldc, accumulate);
        }
    }

    /// <summary>c[6 x 16] (+)= a-sliver * B, where row k of B is the 16 floats at x + offsets[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run2(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            float* b = x + offsets[k];
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
        }

        if (accumulate)
        {
            Vector256.Store(c0_0 + Vector256.Load(c + 0 * ldc + 0), c + 0 * ldc + 0);
            Vector256.Store(c0_1 + Vector256.Load(c + 0 * ldc + 8), c + 0 * ldc + 8);
            Vector256.Store(c1_0 + Vector256.Load(c + 1 * ldc + 0), c + 1 * ldc + 0);
            Vector256.Store(c1_1 + Vector256.Load(c + 1 * ldc + 8), c + 1 * ldc + 8);
            Vector256.Store(c2_0 + Vector256.Load(c + 2 * ldc + 0), c + 2 * ldc + 0);
            Vector256.Store(c2_1 + Vector256.Load(c + 2 * ldc + 8), c + 2 * ldc + 8);
            Vector256.Store(c3_0 + Vector256.Load(c + 3 * ldc + 0), c + 3 * ldc + 0);
            Vector256.Store(c3_1 + Vector256.Load(c + 3 * ldc + 8), c + 3 * ldc + 8);
            Vector256.Store(c4_0 + Vector256.Load(c + 4 * ldc + 0), c + 4 * ldc + 0);
            Vector256.Store(c4_1 + Vector256.Load(c + 4 * ldc + 8), c + 4 * ldc + 8);
            Vector256.Store(c5_0 + Vector256.Load(c + 5 * ldc + 0), c + 5 * ldc + 0);
            Vector256.Store(c5_1 + Vector256.Load(c + 5 * ldc + 8), c + 5 * ldc + 8);
        }
        else
        {
            Vector256.Store(c0_0, c + 0 * ldc + 0);
            Vector256.Store(c0_1, c + 0 * ldc + 8);
            Vector256.Store(c1_0, c + 1 * ldc + 0);
            Vector256.Store(c1_1, c + 1 * ldc + 8);
            Vector256.Store(c2_0, c + 2 * ldc + 0);
            Vector256.Store(c2_1, c + 2 * ldc + 8);
            Vector256.Store(c3_0, c + 3 * ldc + 0);
            Vector256.Store(c3_1, c + 3 * ldc + 8);
            Vector256.Store(c4_0, c + 4 * ldc + 0);
            Vector256.Store(c4_1, c + 4 * ldc + 8);
            Vector256.Store(c5_0, c + 5 * ldc + 0);
            Vector256.Store(c5_1, c + 5 * ldc + 8);
        }
    }

    /// <summary>c[6 x 8] (+)= a-sliver * B, where row k of B is the 8 floats at x + offsets[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run1(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        var c0_0 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            float* b = x + offsets[k];
            var b0 = Vector256.Load(b + 0);
            var a0 = Vector256.Create(a[0]);
            c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
            var a1 = Vector256.Create(a[1]);
            c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
            var a2 = Vector256.Create(a[2]);
            c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
            var a3 = Vector256.Create(a[3]);
            c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
            var a4 = Vector256.Create(a[4]);
            c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
            var a5 = Vector256.Create(a[5]);
            c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
            a += 6;
        }

        if (accumulate)
        {
            Vector256.Store(c0_0 + Vector256.Load(c + 0 * ldc + 0), c + 0 * ldc + 0);
            Vector256.Store(c1_0 + Vector256.Load(c + 1 * ldc + 0), c + 1 * ldc + 0);
            Vector256.Store(c2_0 + Vector256.Load(c + 2 * ldc + 0), c + 2 * ldc + 0);
            Vector256.Store(c3_0 + Vector256.Load(c + 3 * ldc + 0), c + 3 * ldc + 0);
            Vector256.Store(c4_0 + Vector256.Load(c + 4 * ldc + 0), c + 4 * ldc + 0);
            Vector256.Store(c5_0 + Vector256.Load(c + 5 * ldc + 0), c + 5 * ldc + 0);
        }
        else
        {
            Vector256.Store(c0_0, c + 0 * ldc + 0);
            Vector256.Store(c1_0, c + 1 * ldc + 0);
            Vector256.Store(c2_0, c + 2 * ldc + 0);
            Vector256.Store(c3_0, c + 3 * ldc + 0);
            Vector256.Store(c4_0, c + 4 * ldc + 0);
            Vector256.Store(c5_0, c + 5 * ldc + 0);
        }
    }
}
