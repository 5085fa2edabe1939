namespace Tessera.Tests.Cluster;

/// <summary>
/// A cgroup whose processes get a fixed share of one CPU (cgroup v1's cpu controller, or v2's cpu.max), so a worker can
/// be made slower than another whatever else the machine runs. Needs root; <see cref="Reason"/> says why not when it
/// cannot be made. Dispose removes it (after its processes are gone).
/// </summary>
internal sealed class CpuQuota : IDisposable
{
    private const string V1 = "/sys/fs/cgroup/cpu";
    private const string V2 = "/sys/fs/cgroup";

    private readonly string _path;

    private CpuQuota(string path) => _path = path;

    /// <summary>Runs a command inside the cgroup: `sh -c 'echo $$ &gt; cgroup.procs; exec "$@"'`.</summary>
    public string[] Prefix => ["sh", "-c", $"echo $$ > {_path}/cgroup.procs && exec \"$@\"", "sh"];

    /// <summary>Why no quota can be made here, or null.</summary>
    public static string? Reason()
    {
        if (!OperatingSystem.IsLinux()) return "cgroups need Linux";
        if (Environment.UserName != "root") return "cgroups need root";
        if (File.Exists($"{V1}/cpu.cfs_quota_us") || File.Exists($"{V2}/cpu.max") || (File.Exists($"{V2}/cgroup.controllers") && File.ReadAllText($"{V2}/cgroup.controllers").Contains("cpu", StringComparison.Ordinal)))
        {
            return null;
        }

        return "no writable cgroup cpu controller (v1 cpu.cfs_quota_us or v2 cpu.max)";
    }

    /// <summary>A cgroup limited to <paramref name="percent"/>% of one CPU.</summary>
    public static CpuQuota Create(int percent)
    {
        string name = "tessera-test-" + Guid.NewGuid().ToString("N")[..8];
        if (File.Exists($"{V1}/cpu.cfs_quota_us"))
        {
            var quota = new CpuQuota(Directory.CreateDirectory($"{V1}/{name}").FullName);
            try
            {
                File.WriteAllText($"{quota._path}/cpu.cfs_period_us", Period(percent).ToString(System.Globalization.CultureInfo.InvariantCulture));
                File.WriteAllText($"{quota._path}/cpu.cfs_quota_us", (Period(percent) * percent / 100).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return quota;
            }
            catch
            {
                quota.Dispose();
                throw;
            }
        }

        File.WriteAllText($"{V2}/cgroup.subtree_control", "+cpu");
        string v2 = Directory.CreateDirectory($"{V2}/{name}").FullName;
        File.WriteAllText($"{v2}/cpu.max", $"{Period(percent) * percent / 100} {Period(percent)}");
        return new CpuQuota(v2);
    }

    /// <summary>
    /// The period in µs: short, so even a burst of a few milliseconds (a worker measuring its speed) is held to the
    /// share, but long enough that the quota is at least the kernel's 1 ms minimum.
    /// </summary>
    private static int Period(int percent) => Math.Max(10_000, 100_000 / percent);

    public void Dispose()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                Directory.Delete(_path); // cgroup folders are removed with rmdir once empty
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(100); // its processes are still exiting
            }
        }
    }
}
