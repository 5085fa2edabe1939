namespace Tessera.Cluster.Transport;

/// <summary>
/// Which machine (kernel) this process runs on: the boot id Linux draws at every boot, the same for every process and
/// container on the host and different on every other. Workers report it so that a deployment knows which of them
/// share processors; zero where it cannot be read.
/// </summary>
public static class HostIdentity
{
    private static readonly Lazy<Guid> s_bootId = new(Read);

    public static Guid BootId => s_bootId.Value;

    private static Guid Read()
    {
        try
        {
            return Guid.TryParse(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), out var id) ? id : Guid.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Guid.Empty;
        }
    }
}
