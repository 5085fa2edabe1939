using System.Globalization;

namespace Tessera.Tests.Support;

/// <summary>
/// How crowded this machine's cores are now, for the few time limits that judge another process's liveness: a worker
/// that cannot get a core at load 40 on 2 cores misses 2 s of heartbeats without being down. CI (a quiet host running
/// only this suite) stays at the tight limits.
/// </summary>
internal static class MachineLoad
{
    /// <summary>The one-minute load average per core, at least 1 and at most 4 (1 where /proc is not there).</summary>
    public static double Allowance
    {
        get
        {
            try
            {
                string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
                double perCore = double.Parse(first, CultureInfo.InvariantCulture) / Environment.ProcessorCount;
                return Math.Clamp(perCore, 1, 4);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return 1;
            }
        }
    }

    /// <summary><paramref name="limit"/> stretched by <see cref="Allowance"/>.</summary>
    public static TimeSpan Stretch(TimeSpan limit) => limit * Allowance;
}
