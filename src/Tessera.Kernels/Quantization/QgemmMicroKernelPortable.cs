using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 2 x 16 tile with Vector128 only (any CPU), on the same widened pair layout as the AVX2 kernel. Each int32 lane
/// keeps the products of one of the two K values of a pair, so no horizontal add is needed inside the loop; the
/// lanes of each column are summed once at the end. Exact: a product of two 16-bit values fits int32.
/// </summary>
internal static unsafe class QgemmMicroKernelPortable
{
    public const int Mr = 2;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile)
    {
        // Per row 8 accumulators: accumulator j holds columns 2j and 2j+1, each as (even K, odd K) lanes.
        var acc = stackalloc Vector128<int>[2 * 8];
        for (int i = 0; i < 16; i++) acc[i] = Vector128<int>.Zero;
        for (int g = 0; g < groups; g++, b += 64)
        {
            for (int r = 0; r < Mr; r++)
            {
                short* pair = (short*)(a + (r * lda)) + (2 * g);
                var x = Vector128.Create((int)pair[0], pair[1], pair[0], pair[1]);
                var row = acc + (r * 8);
                for (int q = 0; q < 4; q++)
                {
                    var bq = Vector128.Load((short*)b + (8 * q));
                    row[2 * q] += Vector128.WidenLower(bq) * x;
                    row[(2 * q) + 1] += Vector128.WidenUpper(bq) * x;
                }
            }
        }

        for (int r = 0; r < Mr; r++)
        {
            for (int j = 0; j < 8; j++)
            {
                var v = acc[(r * 8) + j];
                tile[(r * 16) + (2 * j)] = v.GetElement(0) + v.GetElement(1);
                tile[(r * 16) + (2 * j) + 1] = v.GetElement(2) + v.GetElement(3);
            }
        }
    }
}
