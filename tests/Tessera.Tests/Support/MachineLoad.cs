using System.Globalization;

namespace Tessera.Tests.Support;

/// <summary>
/// How crowded this machine's cores are now, for the few time limits that judge another process's liveness: a worker
/// that cannot get a core at load 40 on 2 cores misses 2 s of heartbeats without being down. CI (a quiet host running
/// only this suite) stays at the tight limits.
/// </summary>
internal static class MachineLoad
{
    private const int Samples = 5;

    /// <summary>
    /// Threads wanting a core per core, at least 1 and at most 4 (1 where /proc is not there): the larger of the
    /// one-minute load average and the runnable threads counted now. The average alone lags a load that just began
    /// (it moves by 1 - e^(-5/60) of the gap every 5 s: 6 busy loops started 10 s ago read as 1.0, not 3.0, on 2 cores).
    /// </summary>
    public static double Allowance
    {
        get
        {
            try
            {
                double perCore = Math.Max(LoadAverage(File.ReadAllText("/proc/loadavg")), RunnableNow()) / Environment.ProcessorCount;
                return Math.Clamp(perCore, 1, 4);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return 1;
            }
        }
    }

    /// <summary><paramref name="limit"/> stretched by <see cref="Allowance"/>.</summary>
    public static TimeSpan Stretch(TimeSpan limit) => limit * Allowance;

    /// <summary>The one-minute load average of a /proc/loadavg line ("1.27 1.73 2.71 3/196 4593").</summary>
    internal static double LoadAverage(string line) => double.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>The runnable threads of a /proc/loadavg line, less the one reading it.</summary>
    internal static int Runnable(string line)
    {
        string field = line.Split(' ')[3];
        return int.Parse(field.AsSpan(0, field.IndexOf('/')), CultureInfo.InvariantCulture) - 1;
    }

    /// <summary>The runnable threads, averaged over a few readings a millisecond apart (one reading is one instant).</summary>
    private static double RunnableNow()
    {
        int sum = 0;
        for (int i = 0; i < Samples; i++)
        {
            if (i > 0) Thread.Sleep(1);
            sum += Runnable(File.ReadAllText("/proc/loadavg"));
        }

        return (double)sum / Samples;
    }
}
