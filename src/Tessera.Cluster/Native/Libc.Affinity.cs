using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>Which CPUs a thread may run on (Linux): to hand a core to the thread that takes it over.</summary>
internal static unsafe partial class Libc
{
    /// <summary>The calling thread's kernel id (what sched_setaffinity takes); 0 where there is none.</summary>
    public static int ThreadId()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try
        {
            return gettid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>The CPU the calling thread runs on now; -1 where it cannot be told.</summary>
    public static int CurrentCpu()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try
        {
            return sched_getcpu();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>The CPUs (0-1023) thread <paramref name="threadId"/> (0: the calling one) may run on, as a mask of 16 words; false where it cannot be read.</summary>
    public static bool GetAffinity(int threadId, Span<ulong> mask)
    {
        if (!OperatingSystem.IsLinux() || mask.Length < CpuMaskWords) return false;
        try
        {
            fixed (ulong* bits = mask)
            {
                return sched_getaffinity(threadId, CpuMaskWords * sizeof(ulong), bits) == 0;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Lets thread <paramref name="threadId"/> run on the CPUs of <paramref name="mask"/> (16 words) only; false where the kernel refuses.</summary>
    public static bool SetAffinity(int threadId, ReadOnlySpan<ulong> mask)
    {
        if (!OperatingSystem.IsLinux() || mask.Length < CpuMaskWords) return false;
        try
        {
            fixed (ulong* bits = mask)
            {
                return sched_setaffinity(threadId, CpuMaskWords * sizeof(ulong), bits) == 0;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Lets thread <paramref name="threadId"/> run on CPU <paramref name="cpu"/> only.</summary>
    public static bool SetAffinityToCpu(int threadId, int cpu)
    {
        if (cpu < 0 || cpu >= CpuMaskWords * 64) return false;
        Span<ulong> mask = stackalloc ulong[CpuMaskWords];
        mask.Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return SetAffinity(threadId, mask);
    }

    /// <summary>Words of a CPU mask: 1024 CPUs.</summary>
    public const int CpuMaskWords = 16;

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint size, ulong* mask);
}
