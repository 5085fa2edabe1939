using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// CPU seconds used by all threads of this process. On Linux CLOCK_PROCESS_CPUTIME_ID (nanoseconds), because
/// <see cref="Process.TotalProcessorTime"/> comes from /proc in 10 ms clock ticks, 2% of a half-second window;
/// elsewhere that slower clock.
/// </summary>
internal static partial class ProcessCpuClock
{
    private const int ClockProcessCpuTime = 2; // CLOCK_PROCESS_CPUTIME_ID

    public static double Seconds()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                if (clock_gettime(ClockProcessCpuTime, out var now) == 0)
                {
                    return now.Seconds + (now.Nanoseconds * 1e-9);
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }

        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
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
