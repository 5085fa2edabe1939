using System.Runtime.InteropServices;

namespace Tessera.Cluster.Native;

/// <summary>Whether another process of this host still lives (for state in shared memory that a dead process left held).</summary>
internal static partial class Libc
{
    private const int NoSuchProcess = 3; // ESRCH

    /// <summary>
    /// False once process <paramref name="pid"/> has ended: no such process, or a zombie (ended, not yet reaped by its
    /// parent, which kill(pid, 0) alone still reports alive). True where it cannot be told (another OS).
    /// </summary>
    public static bool ProcessLives(int pid)
    {
        if (!OperatingSystem.IsLinux() || pid <= 0) return true;
        try
        {
            if (kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() == NoSuchProcess) return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }

        try
        {
            // "pid (comm) S ...": the state is the first field after the command's closing parenthesis.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone between the two looks, or /proc hidden: kill's answer stands unless the file is gone.
            return File.Exists($"/proc/{pid}/stat");
        }
    }

    /// <summary>The real user id of this process (names per-user files in /dev/shm); 0 where there is none.</summary>
    public static uint UserId()
    {
        if (OperatingSystem.IsWindows()) return 0;
        try
        {
            return getuid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    private static partial uint getuid();
}
