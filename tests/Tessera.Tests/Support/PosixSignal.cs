using System.Diagnostics;
using System.Globalization;

namespace Tessera.Tests.Support;

/// <summary>
/// Sends POSIX signals to test processes. SIGSTOP waits until every thread of the process is stopped: kill(2) wakes one
/// thread to begin the group stop, and on a loaded host that thread may wait for a core while the others keep running
/// long enough to answer a request the test meant to be held (seen in CI: a "frozen" worker answered 200).
/// </summary>
internal static class PosixSignal
{
    public static void Send(int pid, string name)
    {
        using (var kill = Process.Start("kill", ["-" + name, pid.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        if (name == "STOP") WaitUntilStopped(pid, TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits until no thread of <paramref name="pid"/> runs (every one stopped, or the process gone).</summary>
    private static void WaitUntilStopped(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (ThreadsNotStopped(pid) is { Count: > 0 } running)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"process {pid} was sent SIGSTOP but after {timeout.TotalSeconds} s its threads {string.Join(", ", running)} still run");
            }

            Thread.Sleep(2);
        }
    }

    /// <summary>The threads of <paramref name="pid"/> whose state is neither stopped (T, t) nor dead (Z, X).</summary>
    private static List<string> ThreadsNotStopped(int pid)
    {
        var running = new List<string>();
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            return running; // gone: nothing runs
        }

        foreach (string task in tasks)
        {
            // A thread that ended meanwhile reads as null and counts as not running.
            if (ProcStat.Fields(Path.Combine(task, "stat")) is [var state, ..] && state is not ("T" or "t" or "Z" or "X"))
            {
                running.Add($"{Path.GetFileName(task)} ({state})");
            }
        }

        return running;
    }
}
