namespace Tessera.Cluster.Transport;

/// <summary>
/// Which machine (kernel) this process runs on: the boot id Linux draws at every boot, the same for every process and
/// container on the host and different on every other. Workers report it so that a deployment knows which of them
/// share processors; zero where it cannot be read.
/// </summary>
public static class HostIdentity
{
    private static readonly Lazy<Guid> s_bootId = new(Read);
    private static readonly Lazy<string> s_networkNamespace = new(ReadNetworkNamespace);

    public static Guid BootId => s_bootId.Value;

    /// <summary>
    /// The network namespace this process runs in (e.g. <c>net:[4026531840]</c>; empty where it cannot be read):
    /// processes in different namespaces of one host reach each other as remote peers do, so they keep TCP.
    /// </summary>
    public static string NetworkNamespace => s_networkNamespace.Value;

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

    private static string ReadNetworkNamespace()
    {
        try
        {
            return new FileInfo("/proc/self/ns/net").LinkTarget ?? string.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
