using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>The few C library calls .NET has no API for (Linux): a thread's CPU clock.</summary>
internal static partial class Libc
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>CPU seconds the calling thread has used; NaN where the clock cannot be read.</summary>
    public static double ThreadCpuSeconds()
    {
        try
        {
            return clock_gettime(ClockThreadCpuTime, out var now) == 0 ? now.Seconds + (now.Nanoseconds * 1e-9) : double.NaN;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return double.NaN;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
