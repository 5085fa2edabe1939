using System.Diagnostics;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A test that needs network namespaces: it runs only as root with `ip` available, and otherwise is reported as
/// skipped with the reason (the machine cannot host it), never as passed.
/// </summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (Reason() is { } reason)
        {
            Skip = reason;
        }
    }

    private static string? Reason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root")
        {
            return "network namespaces need root (ip netns add)";
        }

        try
        {
            using var p = Process.Start(new ProcessStartInfo("ip", "-V") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(5000);
            return p.ExitCode == 0 ? null : "`ip -V` failed";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "the `ip` command (iproute2) is not installed";
        }
    }
}
