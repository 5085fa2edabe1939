using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The 6 x 16 tile of the 256-bit int8 kernels: per K group (4 bytes of each A row, 64 bytes of packed B) each row's
/// group broadcast against two halves of B, accumulated by <typeparamref name="TStep"/>; twelve int32 accumulators in
/// registers, handed to a sink at the end: stored as the tile (16 int32 per row), or converted to float and written
/// out directly (<see cref="QgemmFloatTileSink"/>).
/// </summary>
internal static unsafe class QgemmTile6x16<TStep>
    where TStep : struct, IQgemmStep
{
    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => Run(a, lda, b, groups, new QgemmIntTileSink(tile));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b, int groups, TSink sink)
        where TSink : struct, IQgemmTileSink
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
            var b0 = Vector256.Load((int*)b);
            var b1 = Vector256.Load((int*)b + 8);
            nint o = g * 4;
            var x = Vector256.Create(*(int*)(a0 + o));
            c00 = TStep.Accumulate(c00, x, b0);
            c01 = TStep.Accumulate(c01, x, b1);
            x = Vector256.Create(*(int*)(a1 + o));
            c10 = TStep.Accumulate(c10, x, b0);
            c11 = TStep.Accumulate(c11, x, b1);
            x = Vector256.Create(*(int*)(a2 + o));
            c20 = TStep.Accumulate(c20, x, b0);
            c21 = TStep.Accumulate(c21, x, b1);
            x = Vector256.Create(*(int*)(a3 + o));
            c30 = TStep.Accumulate(c30, x, b0);
            c31 = TStep.Accumulate(c31, x, b1);
            x = Vector256.Create(*(int*)(a4 + o));
            c40 = TStep.Accumulate(c40, x, b0);
            c41 = TStep.Accumulate(c41, x, b1);
            x = Vector256.Create(*(int*)(a5 + o));
            c50 = TStep.Accumulate(c50, x, b0);
            c51 = TStep.Accumulate(c51, x, b1);
        }

        sink.Finish(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }
}
