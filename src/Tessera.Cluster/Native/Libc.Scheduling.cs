using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>The Linux scheduling policy of a thread.</summary>
internal static unsafe partial class Libc
{
    private const int SchedulingBatch = 3; // SCHED_BATCH

    /// <summary>
    /// Puts thread <paramref name="threadId"/> (0: the calling one) under SCHED_BATCH: it never preempts a running
    /// thread when it wakes (the tick decides), and threads it creates inherit the policy. False where that fails.
    /// </summary>
    public static bool SetBatchScheduling(int threadId)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            int priority = 0;
            return sched_setscheduler(threadId, SchedulingBatch, &priority) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Puts every thread of this process under SCHED_BATCH (<see cref="SetBatchScheduling"/>); the threads it starts
    /// later inherit it. False where a thread could not be (another OS; a thread that ended meanwhile does not count).
    /// </summary>
    public static bool SetBatchSchedulingForProcess()
    {
        if (!OperatingSystem.IsLinux()) return false;
        bool all = true;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int id) && !SetBatchScheduling(id) && Directory.Exists(task)) all = false;
        }

        return all;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setscheduler(int pid, int policy, int* parameter);
}
