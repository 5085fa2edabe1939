namespace Tessera.Tests.Support;

/// <summary>
/// Reads a /proc stat file (/proc/PID/stat or /proc/PID/task/TID/stat): its fields after the command name, which may
/// itself hold spaces and parentheses, so index 0 is field 3 (the state), index 1 field 4 (the parent), and field N is
/// index N - 3.
/// </summary>
internal static class ProcStat
{
    /// <summary>The fields from the state on, or null when the process or thread is gone.</summary>
    public static string[]? Fields(string path)
    {
        try
        {
            string stat = File.ReadAllText(path);
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The fields of process <paramref name="pid"/> from the state on, or null when it is gone.</summary>
    public static string[]? Of(int pid) => Fields($"/proc/{pid}/stat");
}
