using Tessera.Kernels.Core;

namespace Tessera.Tests.Support;

/// <summary>
/// Managed bytes a warmed-up call allocates per run, counting the calling thread and what the intra-op workers
/// allocate for it (<see cref="ParallelRunner.HelperAllocatedBytesForCurrentThread"/>).
/// </summary>
/// <remarks>
/// The least of up to <c>windows</c> windows, stopping at the first that allocates nothing: a steady-state allocation
/// shows in every window, while one-offs end. The runtime makes some (a hot method re-jitted under tiered compilation
/// can land on the calling thread at any run: one window of ten runs failed one time in five on the AVX2 tier), and so,
/// we believe, does a pool worker's per-thread scratch growing the first time it wins a chunk of some operator: at
/// load 40, PP-OCR rec on 2 threads allocated 178 bytes per run in each of three windows, and nothing in the steps on
/// the run after.
/// </remarks>
internal static class SteadyAllocation
{
    public static long LeastBytesPerRun(Action run, int windows = 8, int runs = 3)
    {
        long perRun = long.MaxValue;
        for (int w = 0; w < windows && perRun > 0; w++)
        {
            long before = Allocated();
            for (int i = 0; i < runs; i++)
            {
                run();
            }

            perRun = Math.Min(perRun, (Allocated() - before) / runs);
        }

        return perRun;
    }

    private static long Allocated() => GC.GetAllocatedBytesForCurrentThread() + ParallelRunner.HelperAllocatedBytesForCurrentThread;
}
