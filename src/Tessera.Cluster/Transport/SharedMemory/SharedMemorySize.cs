namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>The size of each shared-memory ring from <c>TESSERA_SHARED_MEMORY</c>: <c>off</c> (or 0), or MiB; 32 MiB when unset.</summary>
internal static class SharedMemorySize
{
    public const string Variable = "TESSERA_SHARED_MEMORY";
    private const long DefaultMiB = 32;
    private const long MaxMiB = 4096;

    /// <summary>Bytes per ring; a value that is neither <c>off</c> nor a whole number of MiB up to 4096 leaves the default.</summary>
    public static long FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(Variable)?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return DefaultMiB << 20;
        }

        if (value.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        return long.TryParse(value, out long mib) && mib is >= 0 and <= MaxMiB ? mib << 20 : DefaultMiB << 20;
    }
}
