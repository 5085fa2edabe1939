using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The 6 x 16 tile of the 512-bit int8 kernels (AVX-512BW without VNNI): per K group (4 bytes of each A row, 64 bytes
/// of packed B) the whole 16-column panel is one vector and each row's group is broadcast against it, accumulated by
/// <typeparamref name="TStep"/>; six 512-bit accumulators in registers, handed to a sink at the end as 256-bit halves,
/// the same sinks as <see cref="QgemmTile6x16{TStep}"/>.
/// </summary>
internal static unsafe class QgemmTile6x16x512<TStep>
    where TStep : struct, IQgemmStep512
{
    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => Run(a, lda, b, groups, new QgemmIntTileSink(tile));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* a, nint lda, byte* b, int groups, TSink sink)
        where TSink : struct, IQgemmTileSink
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero;
        var c3 = Vector512<int>.Zero; var c4 = Vector512<int>.Zero; var c5 = Vector512<int>.Zero;

        // Two row pointers, each reaching the next two rows as [p + lda] and [p + lda * 2]: fewer live registers than
        // six pointers, and the broadcasts take the addresses as memory operands.
        byte* p0 = a, p3 = a + (3 * lda);
        for (int g = 0; g < groups; g++, b += 64, p0 += 4, p3 += 4)
        {
            var y = Vector512.Load((int*)b);
            c0 = TStep.Accumulate(c0, Vector512.Create(*(int*)p0), y);
            c1 = TStep.Accumulate(c1, Vector512.Create(*(int*)(p0 + lda)), y);
            c2 = TStep.Accumulate(c2, Vector512.Create(*(int*)(p0 + (2 * lda))), y);
            c3 = TStep.Accumulate(c3, Vector512.Create(*(int*)p3), y);
            c4 = TStep.Accumulate(c4, Vector512.Create(*(int*)(p3 + lda)), y);
            c5 = TStep.Accumulate(c5, Vector512.Create(*(int*)(p3 + (2 * lda))), y);
        }

        sink.Finish(
            c0.GetLower(), c0.GetUpper(), c1.GetLower(), c1.GetUpper(), c2.GetLower(), c2.GetUpper(),
            c3.GetLower(), c3.GetUpper(), c4.GetLower(), c4.GetUpper(), c5.GetLower(), c5.GetUpper());
    }
}
