using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// The AVX2 6 x 16 tile on A rows stored already broadcast (<see cref="QgemmBlock"/>'s spread rows: per K group the
/// six rows' 4 bytes each repeated over a 256-bit vector, 192 bytes per group), so the loop loads them instead of
/// broadcasting: on Zen 4 vpbroadcastd takes a vector pipe as vpmaddwd and vpaddd do, and a group's 6 broadcasts
/// beside its 24 multiply-adds and adds cost about 8% (scratch loops in L1: 93-95 against 86-87 G multiply-adds/s).
/// </summary>
internal static unsafe class QgemmTile6x16Spread<TStep>
    where TStep : struct, IQgemmStep
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TSink>(byte* spread, byte* b, int groups, TSink sink)
        where TSink : struct, IQgemmTileSink
    {
        var c00 = Vector256<int>.Zero; var c01 = Vector256<int>.Zero;
        var c10 = Vector256<int>.Zero; var c11 = Vector256<int>.Zero;
        var c20 = Vector256<int>.Zero; var c21 = Vector256<int>.Zero;
        var c30 = Vector256<int>.Zero; var c31 = Vector256<int>.Zero;
        var c40 = Vector256<int>.Zero; var c41 = Vector256<int>.Zero;
        var c50 = Vector256<int>.Zero; var c51 = Vector256<int>.Zero;
        int* x = (int*)spread;
        for (int g = 0; g < groups; g++, b += 64, x += 48)
        {
            var b0 = Vector256.Load((int*)b);
            var b1 = Vector256.Load((int*)b + 8);
            var a = Vector256.Load(x);
            c00 = TStep.Accumulate(c00, a, b0);
            c01 = TStep.Accumulate(c01, a, b1);
            a = Vector256.Load(x + 8);
            c10 = TStep.Accumulate(c10, a, b0);
            c11 = TStep.Accumulate(c11, a, b1);
            a = Vector256.Load(x + 16);
            c20 = TStep.Accumulate(c20, a, b0);
            c21 = TStep.Accumulate(c21, a, b1);
            a = Vector256.Load(x + 24);
            c30 = TStep.Accumulate(c30, a, b0);
            c31 = TStep.Accumulate(c31, a, b1);
            a = Vector256.Load(x + 32);
            c40 = TStep.Accumulate(c40, a, b0);
            c41 = TStep.Accumulate(c41, a, b1);
            a = Vector256.Load(x + 40);
            c50 = TStep.Accumulate(c50, a, b0);
            c51 = TStep.Accumulate(c51, a, b1);
        }

        sink.Finish(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }
}
