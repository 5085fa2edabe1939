using System.Diagnostics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;
using Xunit.Abstractions;

namespace Tessera.Tests.Kernels.Linear;

/// <summary>
/// Prints SGEMM GFLOP/s for square sizes on 1 and 2 threads. Never asserts on time; runs only when TESSERA_BENCH=1
/// (e.g. TESSERA_BENCH=1 dotnet test -c Release --filter Category=Throughput --logger "console;verbosity=detailed").
/// </summary>
public sealed unsafe class SgemmThroughputTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Throughput")]
    public void ReportsGflops()
    {
        if (Environment.GetEnvironmentVariable("TESSERA_BENCH") != "1")
        {
            output.WriteLine("set TESSERA_BENCH=1 to measure");
            return;
        }

        output.WriteLine($"micro-kernel {SgemmConfig.Current.Isa} {SgemmConfig.Current.Mr}x{SgemmConfig.Current.Nr}");
        foreach (int size in new[] { 1024, 2048 })
        {
            var random = new Random(1);
            var a = GC.AllocateArray<float>(size * size, pinned: true);
            var b = GC.AllocateArray<float>(size * size, pinned: true);
            var c = GC.AllocateArray<float>(size * size, pinned: true);
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = (float)random.NextDouble();
                b[i] = (float)random.NextDouble();
            }

            foreach (int threads in new[] { 1, 2 })
            {
                var parallel = new ParallelRunner(threads);
                double best = 0;
                fixed (float* pa = a, pb = b, pc = c)
                {
                    for (int rep = 0; rep < 4; rep++)
                    {
                        var watch = Stopwatch.StartNew();
                        Sgemm.Multiply(false, false, size, size, size, 1f, pa, size, pb, size, 0f, pc, size, parallel);
                        best = Math.Max(best, 2.0 * size * size * size / watch.Elapsed.TotalSeconds / 1e9);
                    }
                }

                output.WriteLine($"SGEMM {size}^3, {threads} thread(s): {best:F1} GFLOP/s (best of 4)");
            }
        }
    }
}
