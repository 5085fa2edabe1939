using Tessera.Kernels.Core;

namespace Tessera.Tests.Support;

/// <summary>
/// Managed bytes a warmed-up call allocates per run, counting the calling thread and what the intra-op workers
/// allocate for it (<see cref="ParallelRunner.HelperAllocatedBytesForCurrentThread"/>).
/// </summary>
/// <remarks>
/// The least of a few windows: a steady-state allocation shows in every window, a one-off by the runtime (a hot method
/// re-jitted or moved on stack under tiered compilation, which can land on the calling thread at any run) in one at
/// most. A single window of ten runs failed about one time in five on the AVX2 tier for that reason alone.
/// </remarks>
internal static class SteadyAllocation
{
    public static long LeastBytesPerRun(Action run, int windows = 3, int runs = 3)
    {
        long perRun = long.MaxValue;
        for (int w = 0; w < windows; w++)
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
