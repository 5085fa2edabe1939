using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX2: per K pair one broadcast of 2 widened A values per row and vpmaddwd against 16 columns of 2
/// widened B values: each 16 x 16-bit product is exact and a pair's sum fits int32, so nothing saturates.
/// </summary>
internal static unsafe class QgemmMicroKernelAvx2
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
            var b0 = Vector256.Load((short*)b);
            var b1 = Vector256.Load((short*)b + 16);
            nint o = g * 4; // two 16-bit values
            var x = Vector256.Create(*(int*)(a0 + o)).AsInt16();
            c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, b0));
            c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, b1));
            x = Vector256.Create(*(int*)(a1 + o)).AsInt16();
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, b0));
            c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, b1));
            x = Vector256.Create(*(int*)(a2 + o)).AsInt16();
            c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, b0));
            c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, b1));
            x = Vector256.Create(*(int*)(a3 + o)).AsInt16();
            c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, b0));
            c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, b1));
            x = Vector256.Create(*(int*)(a4 + o)).AsInt16();
            c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(x, b0));
            c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(x, b1));
            x = Vector256.Create(*(int*)(a5 + o)).AsInt16();
            c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(x, b0));
            c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(x, b1));
        }

        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
    }
}
