using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Cli.Bench.Gemm;

namespace Tessera.Cli.Bench;

/// <summary>
/// The machine's compute roof for one thread: single-precision multiply-add GFLOP/s with 512-, 256- and 128-bit
/// vectors, each width measured only where this process runs it in hardware (a width the runtime was told to switch
/// off, e.g. DOTNET_EnableAVX512=0, is reported as absent). Twelve independent chains per width hide the FMA latency,
/// so the loop runs at the FMA ports' throughput: the bound the engine's GFLOP/s are read against.
/// </summary>
internal static class FmaRoofline
{
    internal const int Chains = 12;

    /// <summary>GFLOP/s per vector width in bits, over <paramref name="rounds"/> windows of about <paramref name="seconds"/> each.</summary>
    public static SortedDictionary<int, RoofRate> Measure(double seconds, int rounds)
    {
        var result = new SortedDictionary<int, RoofRate>();
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            result[512] = Best(Chains512, 16, seconds, rounds);
        }

        if (Fma.IsSupported && Vector256.IsHardwareAccelerated)
        {
            result[256] = Best(Chains256, 8, seconds, rounds);
        }

        if (Fma.IsSupported)
        {
            result[128] = Best(Chains128, 4, seconds, rounds);
        }

        return result;
    }

    /// <summary>
    /// <paramref name="rounds"/> windows of <paramref name="chains"/>, in 10^9 × 2 · Chains · lanes per second: the best
    /// window by the wall clock, and all windows' work over the CPU seconds this process used in them.
    /// </summary>
    internal static RoofRate Best(Func<long, float> chains, int lanes, double seconds, int rounds)
    {
        chains(1000);
        long steps = 1 << 20;
        var clock = Stopwatch.StartNew();
        chains(steps);
        steps = Math.Max(steps, (long)(steps * seconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        double operations = 2.0 * Chains * lanes * steps;
        double best = 0, cpu = 0;
        for (int r = 0; r < rounds; r++)
        {
            double cpuStart = ProcessCpuClock.Seconds();
            clock.Restart();
            float sink = chains(steps);
            double elapsed = clock.Elapsed.TotalSeconds;
            cpu += ProcessCpuClock.Seconds() - cpuStart;
            GC.KeepAlive(sink);
            best = Math.Max(best, operations / elapsed / 1e9);
        }

        return new RoofRate(best, operations * rounds / Math.Max(cpu, 1e-9) / 1e9);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static float Chains512(long steps)
    {
        var a = Vector512.Create(1.0000001f);
        var b = Vector512.Create(0.9999999f);
        var c0 = Vector512<float>.Zero;
        var c1 = Vector512<float>.Zero;
        var c2 = Vector512<float>.Zero;
        var c3 = Vector512<float>.Zero;
        var c4 = Vector512<float>.Zero;
        var c5 = Vector512<float>.Zero;
        var c6 = Vector512<float>.Zero;
        var c7 = Vector512<float>.Zero;
        var c8 = Vector512<float>.Zero;
        var c9 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero;
        var c11 = Vector512<float>.Zero;
        for (long i = 0; i < steps; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(a, b, c0);
            c1 = Avx512F.FusedMultiplyAdd(a, b, c1);
            c2 = Avx512F.FusedMultiplyAdd(a, b, c2);
            c3 = Avx512F.FusedMultiplyAdd(a, b, c3);
            c4 = Avx512F.FusedMultiplyAdd(a, b, c4);
            c5 = Avx512F.FusedMultiplyAdd(a, b, c5);
            c6 = Avx512F.FusedMultiplyAdd(a, b, c6);
            c7 = Avx512F.FusedMultiplyAdd(a, b, c7);
            c8 = Avx512F.FusedMultiplyAdd(a, b, c8);
            c9 = Avx512F.FusedMultiplyAdd(a, b, c9);
            c10 = Avx512F.FusedMultiplyAdd(a, b, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b, c11);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static float Chains256(long steps)
    {
        var a = Vector256.Create(1.0000001f);
        var b = Vector256.Create(0.9999999f);
        var c0 = Vector256<float>.Zero;
        var c1 = Vector256<float>.Zero;
        var c2 = Vector256<float>.Zero;
        var c3 = Vector256<float>.Zero;
        var c4 = Vector256<float>.Zero;
        var c5 = Vector256<float>.Zero;
        var c6 = Vector256<float>.Zero;
        var c7 = Vector256<float>.Zero;
        var c8 = Vector256<float>.Zero;
        var c9 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero;
        var c11 = Vector256<float>.Zero;
        for (long i = 0; i < steps; i++)
        {
            c0 = Fma.MultiplyAdd(a, b, c0);
            c1 = Fma.MultiplyAdd(a, b, c1);
            c2 = Fma.MultiplyAdd(a, b, c2);
            c3 = Fma.MultiplyAdd(a, b, c3);
            c4 = Fma.MultiplyAdd(a, b, c4);
            c5 = Fma.MultiplyAdd(a, b, c5);
            c6 = Fma.MultiplyAdd(a, b, c6);
            c7 = Fma.MultiplyAdd(a, b, c7);
            c8 = Fma.MultiplyAdd(a, b, c8);
            c9 = Fma.MultiplyAdd(a, b, c9);
            c10 = Fma.MultiplyAdd(a, b, c10);
            c11 = Fma.MultiplyAdd(a, b, c11);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static float Chains128(long steps)
    {
        var a = Vector128.Create(1.0000001f);
        var b = Vector128.Create(0.9999999f);
        var c0 = Vector128<float>.Zero;
        var c1 = Vector128<float>.Zero;
        var c2 = Vector128<float>.Zero;
        var c3 = Vector128<float>.Zero;
        var c4 = Vector128<float>.Zero;
        var c5 = Vector128<float>.Zero;
        var c6 = Vector128<float>.Zero;
        var c7 = Vector128<float>.Zero;
        var c8 = Vector128<float>.Zero;
        var c9 = Vector128<float>.Zero;
        var c10 = Vector128<float>.Zero;
        var c11 = Vector128<float>.Zero;
        for (long i = 0; i < steps; i++)
        {
            c0 = Fma.MultiplyAdd(a, b, c0);
            c1 = Fma.MultiplyAdd(a, b, c1);
            c2 = Fma.MultiplyAdd(a, b, c2);
            c3 = Fma.MultiplyAdd(a, b, c3);
            c4 = Fma.MultiplyAdd(a, b, c4);
            c5 = Fma.MultiplyAdd(a, b, c5);
            c6 = Fma.MultiplyAdd(a, b, c6);
            c7 = Fma.MultiplyAdd(a, b, c7);
            c8 = Fma.MultiplyAdd(a, b, c8);
            c9 = Fma.MultiplyAdd(a, b, c9);
            c10 = Fma.MultiplyAdd(a, b, c10);
            c11 = Fma.MultiplyAdd(a, b, c11);
        }

        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }
}
