namespace Tessera.Partitioning.Planning;

/// <summary>The network between any two nodes (one figure for the whole cluster).</summary>
public sealed class ClusterLink
{
    public const double DefaultBandwidth = 1.25e9;
    public const double DefaultLatency = 2e-4;

    public double BandwidthBytesPerSecond { get; init; } = DefaultBandwidth;

    public double LatencySeconds { get; init; } = DefaultLatency;

    /// <summary>Seconds to send <paramref name="bytes"/> once from one node to another.</summary>
    public double TransferSeconds(double bytes) => LatencySeconds + bytes / BandwidthBytesPerSecond;
}
