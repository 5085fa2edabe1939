using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>The few C library calls .NET has no API for (Linux): a thread's CPU clock, futexes on shared memory, populating a mapping, a thread's scheduling policy (Libc.Scheduling.cs).</summary>
internal static unsafe partial class Libc
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
    private const int FutexWaitOp = 0; // FUTEX_WAIT, not private: the word lives in memory shared between processes
    private const int FutexWakeOp = 1;
    private const int MadvisePopulateWrite = 23; // MADV_POPULATE_WRITE, Linux 5.14 and later

    private static readonly long s_futexSyscall = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 98,
        _ => -1,
    };

    /// <summary>
    /// Sleeps while <c>*word == expected</c>, until a <see cref="FutexWake"/> on the word (from any process mapping it)
    /// or <paramref name="timeoutMicroseconds"/>; without futexes (another OS or architecture) it just sleeps a millisecond.
    /// </summary>
    public static void FutexWait(int* word, int expected, int timeoutMicroseconds)
    {
        if (s_futexSyscall < 0 || !OperatingSystem.IsLinux())
        {
            Thread.Sleep(1);
            return;
        }

        var timeout = new TimeSpec { Seconds = timeoutMicroseconds / 1_000_000, Nanoseconds = timeoutMicroseconds % 1_000_000 * 1000L };
        _ = syscall(s_futexSyscall, (nint)word, FutexWaitOp, expected, (nint)(&timeout));
    }

    /// <summary>Wakes the threads waiting on <paramref name="word"/>.</summary>
    public static void FutexWake(int* word)
    {
        if (s_futexSyscall >= 0 && OperatingSystem.IsLinux())
        {
            _ = syscall(s_futexSyscall, (nint)word, FutexWakeOp, int.MaxValue, 0);
        }
    }

    /// <summary>
    /// Maps the pages of [<paramref name="start"/>, + <paramref name="bytes"/>) (page-aligned) writable now, in one call,
    /// instead of one page fault per page at its first write; where the kernel cannot (before Linux 5.14, another OS)
    /// nothing happens and the pages fault in as they are first written.
    /// </summary>
    public static void PopulateForWriting(byte* start, long bytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = madvise((nint)start, (nuint)bytes, MadvisePopulateWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint address, int operation, int value, nint timeout);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
