using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Cli.Bench;

/// <summary>
/// The int8 roof of the 7-bit byte kernels (QgemmMicroKernelAvx2Bytes, QgemmMicroKernelAvx512Bytes), for one thread:
/// their step, vpmaddubsw (u8 × s8 pairs summed into int16), vpmaddwd with 16-bit ones (pairs of those into int32),
/// then vpaddd into the accumulator, with 512-bit (AVX-512BW) and 256-bit (AVX2) vectors, in 10^9 operations (2 per
/// multiply-add, 4 byte products per 32-bit lane) per second. Three instructions per 4 products per lane, where the
/// widened step (<see cref="WidenedRoofline"/>) spends two per 2: the bound the byte kernels are read against, not
/// that one. Each chain feeds its sums back as the next bytes, so the JIT cannot hoist the multiplies; twelve chains
/// hide the three instructions' latency.
/// </summary>
internal static class BytesRoofline
{
    /// <summary>GOP/s per vector width in bits (empty without AVX2).</summary>
    public static SortedDictionary<int, RoofRate> Measure(double seconds, int rounds)
    {
        var result = new SortedDictionary<int, RoofRate>();
        if (Avx512BW.IsSupported)
        {
            // Best counts 2 operations per "lane": a 512-bit step has 64 byte products.
            result[512] = FmaRoofline.Best(steps => Chains512(steps), 64, seconds, rounds);
        }

        if (Avx2.IsSupported)
        {
            result[256] = FmaRoofline.Best(steps => Chains256(steps), 32, seconds, rounds);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int Chains512(long steps)
    {
        var b = Vector512.Create((sbyte)-2);
        var ones = Vector512.Create((short)1);
        var c0 = Vector512.Create(1); var c1 = Vector512.Create(2); var c2 = Vector512.Create(3);
        var c3 = Vector512.Create(4); var c4 = Vector512.Create(5); var c5 = Vector512.Create(6);
        var c6 = Vector512.Create(7); var c7 = Vector512.Create(8); var c8 = Vector512.Create(9);
        var c9 = Vector512.Create(10); var c10 = Vector512.Create(11); var c11 = Vector512.Create(12);
        for (long i = 0; i < steps; i++)
        {
            c0 = Step(c0, b, ones); c1 = Step(c1, b, ones); c2 = Step(c2, b, ones);
            c3 = Step(c3, b, ones); c4 = Step(c4, b, ones); c5 = Step(c5, b, ones);
            c6 = Step(c6, b, ones); c7 = Step(c7, b, ones); c8 = Step(c8, b, ones);
            c9 = Step(c9, b, ones); c10 = Step(c10, b, ones); c11 = Step(c11, b, ones);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int Chains256(long steps)
    {
        var b = Vector256.Create((sbyte)-2);
        var ones = Vector256.Create((short)1);
        var c0 = Vector256.Create(1); var c1 = Vector256.Create(2); var c2 = Vector256.Create(3);
        var c3 = Vector256.Create(4); var c4 = Vector256.Create(5); var c5 = Vector256.Create(6);
        var c6 = Vector256.Create(7); var c7 = Vector256.Create(8); var c8 = Vector256.Create(9);
        var c9 = Vector256.Create(10); var c10 = Vector256.Create(11); var c11 = Vector256.Create(12);
        for (long i = 0; i < steps; i++)
        {
            c0 = Step(c0, b, ones); c1 = Step(c1, b, ones); c2 = Step(c2, b, ones);
            c3 = Step(c3, b, ones); c4 = Step(c4, b, ones); c5 = Step(c5, b, ones);
            c6 = Step(c6, b, ones); c7 = Step(c7, b, ones); c8 = Step(c8, b, ones);
            c9 = Step(c9, b, ones); c10 = Step(c10, b, ones); c11 = Step(c11, b, ones);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    // The kernels' step (QgemmMicroKernelAvx512Bytes.Step), the accumulator standing in for the A bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Step(Vector512<int> sums, Vector512<sbyte> b, Vector512<short> ones) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(sums.AsByte(), b), ones));

    // QgemmMicroKernelAvx2Bytes.Accumulate's step.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<int> sums, Vector256<sbyte> b, Vector256<short> ones) =>
        Avx2.Add(sums, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(sums.AsByte(), b), ones));
}
