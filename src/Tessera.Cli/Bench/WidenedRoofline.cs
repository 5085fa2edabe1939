using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Cli.Bench;

/// <summary>
/// The int8 roof without VNNI, for one thread: the step of the widened kernels (AVX-512BW and AVX2, operands widened
/// to 16 bits), vpmaddwd then vpaddd into an int32 accumulator, with 512- and 256-bit vectors, in 10^9 operations (2
/// per multiply-add) per second. Each chain feeds its own sums back as the next multiplicand, so the JIT cannot hoist
/// the multiply out of the loop; twelve chains hide the multiply's and the add's latency. Where the processor splits
/// a 512-bit operation into two 256-bit halves (AMD Zen 4) both widths give the same figure.
/// </summary>
internal static class WidenedRoofline
{
    /// <summary>GOP/s per vector width in bits (empty without AVX2).</summary>
    public static SortedDictionary<int, RoofRate> Measure(double seconds, int rounds)
    {
        var result = new SortedDictionary<int, RoofRate>();
        if (Avx512BW.IsSupported)
        {
            result[512] = FmaRoofline.Best(steps => Chains512(steps), 32, seconds, rounds);
        }

        if (Avx2.IsSupported)
        {
            result[256] = FmaRoofline.Best(steps => Chains256(steps), 16, seconds, rounds);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int Chains512(long steps)
    {
        var b = Vector512.Create((short)1);
        var c0 = Vector512.Create(1); var c1 = Vector512.Create(2); var c2 = Vector512.Create(3);
        var c3 = Vector512.Create(4); var c4 = Vector512.Create(5); var c5 = Vector512.Create(6);
        var c6 = Vector512.Create(7); var c7 = Vector512.Create(8); var c8 = Vector512.Create(9);
        var c9 = Vector512.Create(10); var c10 = Vector512.Create(11); var c11 = Vector512.Create(12);
        for (long i = 0; i < steps; i++)
        {
            c0 = Avx512F.Add(c0, Avx512BW.MultiplyAddAdjacent(c0.AsInt16(), b));
            c1 = Avx512F.Add(c1, Avx512BW.MultiplyAddAdjacent(c1.AsInt16(), b));
            c2 = Avx512F.Add(c2, Avx512BW.MultiplyAddAdjacent(c2.AsInt16(), b));
            c3 = Avx512F.Add(c3, Avx512BW.MultiplyAddAdjacent(c3.AsInt16(), b));
            c4 = Avx512F.Add(c4, Avx512BW.MultiplyAddAdjacent(c4.AsInt16(), b));
            c5 = Avx512F.Add(c5, Avx512BW.MultiplyAddAdjacent(c5.AsInt16(), b));
            c6 = Avx512F.Add(c6, Avx512BW.MultiplyAddAdjacent(c6.AsInt16(), b));
            c7 = Avx512F.Add(c7, Avx512BW.MultiplyAddAdjacent(c7.AsInt16(), b));
            c8 = Avx512F.Add(c8, Avx512BW.MultiplyAddAdjacent(c8.AsInt16(), b));
            c9 = Avx512F.Add(c9, Avx512BW.MultiplyAddAdjacent(c9.AsInt16(), b));
            c10 = Avx512F.Add(c10, Avx512BW.MultiplyAddAdjacent(c10.AsInt16(), b));
            c11 = Avx512F.Add(c11, Avx512BW.MultiplyAddAdjacent(c11.AsInt16(), b));
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static int Chains256(long steps)
    {
        var b = Vector256.Create((short)1);
        var c0 = Vector256.Create(1); var c1 = Vector256.Create(2); var c2 = Vector256.Create(3);
        var c3 = Vector256.Create(4); var c4 = Vector256.Create(5); var c5 = Vector256.Create(6);
        var c6 = Vector256.Create(7); var c7 = Vector256.Create(8); var c8 = Vector256.Create(9);
        var c9 = Vector256.Create(10); var c10 = Vector256.Create(11); var c11 = Vector256.Create(12);
        for (long i = 0; i < steps; i++)
        {
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(c0.AsInt16(), b));
            c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(c1.AsInt16(), b));
            c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(c2.AsInt16(), b));
            c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(c3.AsInt16(), b));
            c4 = Avx2.Add(c4, Avx2.MultiplyAddAdjacent(c4.AsInt16(), b));
            c5 = Avx2.Add(c5, Avx2.MultiplyAddAdjacent(c5.AsInt16(), b));
            c6 = Avx2.Add(c6, Avx2.MultiplyAddAdjacent(c6.AsInt16(), b));
            c7 = Avx2.Add(c7, Avx2.MultiplyAddAdjacent(c7.AsInt16(), b));
            c8 = Avx2.Add(c8, Avx2.MultiplyAddAdjacent(c8.AsInt16(), b));
            c9 = Avx2.Add(c9, Avx2.MultiplyAddAdjacent(c9.AsInt16(), b));
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(c10.AsInt16(), b));
            c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(c11.AsInt16(), b));
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }
}
