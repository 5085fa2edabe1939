using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>The Linux scheduling policy of a thread, and the time slice it asks for.</summary>
internal static unsafe partial class Libc
{
    private const int SchedulingBatch = 3; // SCHED_BATCH

    private static readonly long s_schedSetAttrSyscall = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 314,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 274,
        _ => -1,
    };

    /// <summary>
    /// Puts thread <paramref name="threadId"/> (0: the calling one) under SCHED_BATCH: it never preempts a running
    /// thread when it wakes (the tick decides), and threads it creates inherit the policy. With
    /// <paramref name="sliceNanoseconds"/> above 0 it also asks for that time slice (sched_setattr's sched_runtime,
    /// which the EEVDF scheduler of Linux 6.12 and later takes as the slice of a fair task, clamped to 0.1-100 ms;
    /// inherited too); where the kernel refuses it, the policy alone is set. False where even that fails.
    /// </summary>
    public static bool SetBatchScheduling(int threadId, long sliceNanoseconds = 0)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            if (sliceNanoseconds > 0 && s_schedSetAttrSyscall >= 0)
            {
                // The nice value is part of the attributes set: keep the thread's own.
                var attributes = new SchedAttr { Size = (uint)sizeof(SchedAttr), Policy = SchedulingBatch, Nice = getpriority(PriorityProcess, threadId), Runtime = (ulong)sliceNanoseconds };
                if (syscall(s_schedSetAttrSyscall, threadId, &attributes, 0) == 0) return true;
            }

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
    public static bool SetBatchSchedulingForProcess(long sliceNanoseconds = 0)
    {
        if (!OperatingSystem.IsLinux()) return false;
        bool all = true;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int id) && !SetBatchScheduling(id, sliceNanoseconds) && Directory.Exists(task)) all = false;
        }

        return all;
    }

    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that thread

    // struct sched_attr, SCHED_ATTR_SIZE_VER1 (56 bytes).
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
        public uint UtilMin;
        public uint UtilMax;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setscheduler(int pid, int policy, int* parameter);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall(long number, int threadId, SchedAttr* attributes, uint flags);
}
