using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>The sum of a run of unsigned bytes (a packed A row's sum for the zero-point correction).</summary>
internal static unsafe class ByteSums
{
    public static int Of(byte* p, int count)
    {
        int i = 0;
        long sum = 0;
        if (Avx512BW.IsSupported && count >= 64)
        {
            var total = Vector512<ulong>.Zero;
            for (; i <= count - 64; i += 64)
            {
                total += Avx512BW.SumAbsoluteDifferences(Vector512.Load(p + i), Vector512<byte>.Zero).AsUInt64();
            }

            sum = (long)Vector512.Sum(total);
        }

        if (Avx2.IsSupported && count - i >= 32)
        {
            // vpsadbw against zero adds each 8 bytes into a 64-bit lane: no overflow for any row length here.
            var total = Vector256<ulong>.Zero;
            for (; i <= count - 32; i += 32)
            {
                total += Avx2.SumAbsoluteDifferences(Vector256.Load(p + i), Vector256<byte>.Zero).AsUInt64();
            }

            sum += (long)Vector256.Sum(total);
        }

        for (; i < count; i++) sum += p[i];
        return (int)sum;
    }
}
