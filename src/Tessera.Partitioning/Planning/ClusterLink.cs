namespace Tessera.Partitioning.Planning;

/// <summary>
/// The network between any two nodes (one figure for the whole cluster), and the shared memory between nodes of one
/// host (<see cref="ClusterNode.Host"/>), which the cluster's transport uses instead of the network there.
/// </summary>
public sealed class ClusterLink
{
    public const double DefaultBandwidth = 1.25e9;
    public const double DefaultLatency = 2e-4;

    /// <summary>4 MiB tensors between two processes of one host through the shared-memory rings (`tessera bench-transport`, docs/benchmarks.md).</summary>
    public const double DefaultSharedMemoryBandwidth = 19.6e9;

    /// <summary>A message's hop between two processes of one host through the shared-memory frame rings (`tessera bench-transport`).</summary>
    public const double DefaultSharedMemoryLatency = 1.2e-5;

    public double BandwidthBytesPerSecond { get; init; } = DefaultBandwidth;

    public double LatencySeconds { get; init; } = DefaultLatency;

    public double SharedMemoryBandwidthBytesPerSecond { get; init; } = DefaultSharedMemoryBandwidth;

    public double SharedMemoryLatencySeconds { get; init; } = DefaultSharedMemoryLatency;

    /// <summary>Seconds to send <paramref name="bytes"/> once from one node to another.</summary>
    public double TransferSeconds(double bytes) => LatencySeconds + bytes / BandwidthBytesPerSecond;

    /// <summary>Seconds to send <paramref name="bytes"/> once between two nodes, through shared memory when <paramref name="sameHost"/>.</summary>
    public double TransferSeconds(double bytes, bool sameHost) =>
        sameHost ? SharedMemoryLatencySeconds + bytes / SharedMemoryBandwidthBytesPerSecond : TransferSeconds(bytes);
}
