using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-VNNI: per K group one broadcast of 4 A bytes per row and vpdpbusd against 16 columns of 4
/// signed B bytes, summed into exact int32 (the non-saturating form).
/// </summary>
internal static unsafe class QgemmMicroKernelVnni
{
    public const int Mr = 6;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile)
    {
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero;
        var c40 = Vector256<int>.Zero; var c41 = Vector256<int>.Zero;
        var c50 = Vector256<int>.Zero; var c51 = Vector256<int>.Zero;
        byte* a0 = a, a1 = a + lda, a2 = a + (2 * lda), a3 = a + (3 * lda), a4 = a + (4 * lda), a5 = a + (5 * lda);
        for (int g = 0; g < groups; g++, b += 64)
        {
            var b0 = Vector256.Load((sbyte*)b);
            var b1 = Vector256.Load((sbyte*)b + 32);
            nint o = g * 4;
            var x = Vector256.Create(*(int*)(a0 + o)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(int*)(a1 + o)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(int*)(a2 + o)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(int*)(a3 + o)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            x = Vector256.Create(*(int*)(a4 + o)).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, b0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, b1);
            x = Vector256.Create(*(int*)(a5 + o)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, b0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, b1);
        }

        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
    }
}
