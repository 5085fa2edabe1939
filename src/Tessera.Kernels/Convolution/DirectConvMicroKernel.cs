using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// AVX-512 micro-kernels of the direct convolution: the SGEMM's 8-row register tile, but row k of B is read straight
/// from the (padded, stride-phased) input at a per-k offset instead of from a packed panel, so no im2col copy is made.
/// </summary>
internal static unsafe class DirectConvMicroKernel
{
    public const int Mr = 8;

    /// <summary>Columns of the wide tile.</summary>
    public const int Nr = 48;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>c[8 x width] (+)= a-sliver * B for the columns [0, width) (a multiple of 16) at x and c: 48 at a time, then 32, then 16.</summary>
    public static void Sweep(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate, int width)
    {
        int j = 0;
        for (; j + Nr <= width; j += Nr)
        {
            Run3(a, x + j, offsets, kc, c + j, ldc, accumulate);
        }

        if (j + 32 <= width)
        {
            // 16 FMAs per 10 loads instead of two 16-column calls' 8 per 9, which the load ports would limit.
            Run2(a, x + j, offsets, kc, c + j, ldc, accumulate);
            j += 32;
        }

        for (; j < width; j += 16)
        {
            Run1(a, x + j, offsets, kc, c + j, ldc, accumulate);
        }
    }

    /// <summary>c[8 x 48] (+)= a-sliver * B, where row k of B is the 48 floats at x + offsets[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run3(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero; var c0_2 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero; var c1_2 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero; var c2_2 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero; var c3_2 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero; var c4_2 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero; var c5_2 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero; var c6_2 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero; var c7_2 = Vector512<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            float* b = x + offsets[k];
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
        }

        if (accumulate)
        {
            Vector512.Store(c0_0 + Vector512.Load(c + 0 * ldc + 0), c + 0 * ldc + 0);
            Vector512.Store(c0_1 + Vector512.Load(c + 0 * ldc + 16), c + 0 * ldc + 16);
            Vector512.Store(c0_2 + Vector512.Load(c + 0 * ldc + 32), c + 0 * ldc + 32);
            Vector512.Store(c1_0 + Vector512.Load(c + 1 * ldc + 0), c + 1 * ldc + 0);
            Vector512.Store(c1_1 + Vector512.Load(c + 1 * ldc + 16), c + 1 * ldc + 16);
            Vector512.Store(c1_2 + Vector512.Load(c + 1 * ldc + 32), c + 1 * ldc + 32);
            Vector512.Store(c2_0 + Vector512.Load(c + 2 * ldc + 0), c + 2 * ldc + 0);
            Vector512.Store(c2_1 + Vector512.Load(c + 2 * ldc + 16), c + 2 * ldc + 16);
            Vector512.Store(c2_2 + Vector512.Load(c + 2 * ldc + 32), c + 2 * ldc + 32);
            Vector512.Store(c3_0 + Vector512.Load(c + 3 * ldc + 0), c + 3 * ldc + 0);
            Vector512.Store(c3_1 + Vector512.Load(c + 3 * ldc + 16), c + 3 * ldc + 16);
            Vector512.Store(c3_2 + Vector512.Load(c + 3 * ldc + 32), c + 3 * ldc + 32);
            Vector512.Store(c4_0 + Vector512.Load(c + 4 * ldc + 0), c + 4 * ldc + 0);
            Vector512.Store(c4_1 + Vector512.Load(c + 4 * ldc + 16), c + 4 * ldc + 16);
            Vector512.Store(c4_2 + Vector512.Load(c + 4 * ldc + 32), c + 4 * ldc + 32);
            Vector512.Store(c5_0 + Vector512.Load(c + 5 * ldc + 0), c + 5 * ldc + 0);
            Vector512.Store(c5_1 + Vector512.Load(c + 5 * ldc + 16), c + 5 * ldc + 16);
            Vector512.Store(c5_2 + Vector512.Load(c + 5 * ldc + 32), c + 5 * ldc + 32);
            Vector512.Store(c6_0 + Vector512.Load(c + 6 * ldc + 0), c + 6 * ldc + 0);
            Vector512.Store(c6_1 + Vector512.Load(c + 6 * ldc + 16), c + 6 * ldc + 16);
            Vector512.Store(c6_2 + Vector512.Load(c + 6 * ldc + 32), c + 6 * ldc + 32);
            Vector512.Store(c7_0 + Vector512.Load(c + 7 * ldc + 0), c + 7 * ldc + 0);
            Vector512.Store(c7_1 + Vector512.Load(c + 7 * ldc + 16), c + 7 * ldc + 16);
            Vector512.Store(c7_2 + Vector512.Load(c + 7 * ldc + 32), c + 7 * ldc + 32);
        }
        else
        {
            Vector512.Store(c0_0, c + 0 * ldc + 0);
            Vector512.Store(c0_1, c + 0 * ldc + 16);
            Vector512.Store(c0_2, c + 0 * ldc + 32);
            Vector512.Store(c1_0, c + 1 * ldc + 0);
            Vector512.Store(c1_1, c + 1 * ldc + 16);
            Vector512.Store(c1_2, c + 1 * ldc + 32);
            Vector512.Store(c2_0, c + 2 * ldc + 0);
            Vector512.Store(c2_1, c + 2 * ldc + 16);
            Vector512.Store(c2_2, c + 2 * ldc + 32);
            Vector512.Store(c3_0, c + 3 * ldc + 0);
            Vector512.Store(c3_1, c + 3 * ldc + 16);
            Vector512.Store(c3_2, c + 3 * ldc + 32);
            Vector512.Store(c4_0, c + 4 * ldc + 0);
            Vector512.Store(c4_1, c + 4 * ldc + 16);
            Vector512.Store(c4_2, c + 4 * ldc + 32);
            Vector512.Store(c5_0, c + 5 * ldc + 0);
            Vector512.Store(c5_1, c + 5 * ldc + 16);
            Vector512.Store(c5_2, c + 5 * ldc + 32);
            Vector512.Store(c6_0, c + 6 * ldc + 0);
            Vector512.Store(c6_1, c + 6 * ldc + 16);
            Vector512.Store(c6_2, c + 6 * ldc + 32);
            Vector512.Store(c7_0, c + 7 * ldc + 0);
            Vector512.Store(c7_1, c + 7 * ldc + 16);
            Vector512.Store(c7_2, c + 7 * ldc + 32);
        }
    }

    /// <summary>c[8 x 32] (+)= a-sliver * B, where row k of B is the 32 floats at x + offsets[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run2(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            float* b = x + offsets[k];
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
            a += 8;
        }

        if (accumulate)
        {
            Vector512.Store(c0_0 + Vector512.Load(c + 0 * ldc + 0), c + 0 * ldc + 0);
            Vector512.Store(c0_1 + Vector512.Load(c + 0 * ldc + 16), c + 0 * ldc + 16);
            Vector512.Store(c1_0 + Vector512.Load(c + 1 * ldc + 0), c + 1 * ldc + 0);
            Vector512.Store(c1_1 + Vector512.Load(c + 1 * ldc + 16), c + 1 * ldc + 16);
            Vector512.Store(c2_0 + Vector512.Load(c + 2 * ldc + 0), c + 2 * ldc + 0);
            Vector512.Store(c2_1 + Vector512.Load(c + 2 * ldc + 16), c + 2 * ldc + 16);
            Vector512.Store(c3_0 + Vector512.Load(c + 3 * ldc + 0), c + 3 * ldc + 0);
            Vector512.Store(c3_1 + Vector512.Load(c + 3 * ldc + 16), c + 3 * ldc + 16);
            Vector512.Store(c4_0 + Vector512.Load(c + 4 * ldc + 0), c + 4 * ldc + 0);
            Vector512.Store(c4_1 + Vector512.Load(c + 4 * ldc + 16), c + 4 * ldc + 16);
            Vector512.Store(c5_0 + Vector512.Load(c + 5 * ldc + 0), c + 5 * ldc + 0);
            Vector512.Store(c5_1 + Vector512.Load(c + 5 * ldc + 16), c + 5 * ldc + 16);
            Vector512.Store(c6_0 + Vector512.Load(c + 6 * ldc + 0), c + 6 * ldc + 0);
            Vector512.Store(c6_1 + Vector512.Load(c + 6 * ldc + 16), c + 6 * ldc + 16);
            Vector512.Store(c7_0 + Vector512.Load(c + 7 * ldc + 0), c + 7 * ldc + 0);
            Vector512.Store(c7_1 + Vector512.Load(c + 7 * ldc + 16), c + 7 * ldc + 16);
        }
        else
        {
            Vector512.Store(c0_0, c + 0 * ldc + 0);
            Vector512.Store(c0_1, c + 0 * ldc + 16);
            Vector512.Store(c1_0, c + 1 * ldc + 0);
            Vector512.Store(c1_1, c + 1 * ldc + 16);
            Vector512.Store(c2_0, c + 2 * ldc + 0);
            Vector512.Store(c2_1, c + 2 * ldc + 16);
            Vector512.Store(c3_0, c + 3 * ldc + 0);
            Vector512.Store(c3_1, c + 3 * ldc + 16);
            Vector512.Store(c4_0, c + 4 * ldc + 0);
            Vector512.Store(c4_1, c + 4 * ldc + 16);
            Vector512.Store(c5_0, c + 5 * ldc + 0);
            Vector512.Store(c5_1, c + 5 * ldc + 16);
            Vector512.Store(c6_0, c + 6 * ldc + 0);
            Vector512.Store(c6_1, c + 6 * ldc + 16);
            Vector512.Store(c7_0, c + 7 * ldc + 0);
            Vector512.Store(c7_1, c + 7 * ldc + 16);
        }
    }

    /// <summary>c[8 x 16] (+)= a-sliver * B, where row k of B is the 16 floats at x + offsets[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run1(float* a, float* x, int* offsets, int kc, float* c, nint ldc, bool accumulate)
    {
        var c0_0 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero;
        for (int k = 0; k < kc; k++)
        {
            float* b = x + offsets[k];
            var b0 = Vector512.Load(b + 0);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            var a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            var a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            var a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            var a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            a += 8;
        }

        if (accumulate)
        {
            Vector512.Store(c0_0 + Vector512.Load(c + 0 * ldc + 0), c + 0 * ldc + 0);
            Vector512.Store(c1_0 + Vector512.Load(c + 1 * ldc + 0), c + 1 * ldc + 0);
            Vector512.Store(c2_0 + Vector512.Load(c + 2 * ldc + 0), c + 2 * ldc + 0);
            Vector512.Store(c3_0 + Vector512.Load(c + 3 * ldc + 0), c + 3 * ldc + 0);
            Vector512.Store(c4_0 + Vector512.Load(c + 4 * ldc + 0), c + 4 * ldc + 0);
            Vector512.Store(c5_0 + Vector512.Load(c + 5 * ldc + 0), c + 5 * ldc + 0);
            Vector512.Store(c6_0 + Vector512.Load(c + 6 * ldc + 0), c + 6 * ldc + 0);
            Vector512.Store(c7_0 + Vector512.Load(c + 7 * ldc + 0), c + 7 * ldc + 0);
        }
        else
        {
            Vector512.Store(c0_0, c + 0 * ldc + 0);
            Vector512.Store(c1_0, c + 1 * ldc + 0);
            Vector512.Store(c2_0, c + 2 * ldc + 0);
            Vector512.Store(c3_0, c + 3 * ldc + 0);
            Vector512.Store(c4_0, c + 4 * ldc + 0);
            Vector512.Store(c5_0, c + 5 * ldc + 0);
            Vector512.Store(c6_0, c + 6 * ldc + 0);
            Vector512.Store(c7_0, c + 7 * ldc + 0);
        }
    }
}
