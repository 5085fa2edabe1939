using System.Globalization;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>The size of each shared-memory ring from <c>TESSERA_SHARED_MEMORY</c>: <c>off</c> (or 0), or MiB; 32 MiB when unset.</summary>
internal static class SharedMemorySize
{
    public const string Variable = "TESSERA_SHARED_MEMORY";
    private const long DefaultMiB = 32;
    private const long MaxMiB = 4096;

    /// <summary>Bytes per ring from the environment (<see cref="Parse"/>).</summary>
    public static long FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>
    /// Bytes per ring for a value of <c>TESSERA_SHARED_MEMORY</c>. A value that is neither <c>off</c> nor a whole
    /// number of MiB up to 4096 is refused rather than replaced by the default: a typo would otherwise silently give
    /// every connection rings of another size than the one asked for (or none at all).
    /// </summary>
    public static long Parse(string? value)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return DefaultMiB << 20;
        }

        if (value.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long mib) && mib <= MaxMiB)
        {
            return mib << 20;
        }

        throw new ClusterException(ClusterErrorCode.BadRequest, $"{Variable} must be 'off' or a whole number of MiB from 0 to {MaxMiB}, not '{Tessera.Tensors.UntrustedText.OneLine(value, 64)}'");
    }
}
