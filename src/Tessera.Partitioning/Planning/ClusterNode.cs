using System.Text.Json.Serialization;

namespace Tessera.Partitioning.Planning;

/// <summary>One machine (or worker process) of a cluster description.</summary>
public sealed class ClusterNode
{
    public required string Name { get; init; }

    /// <summary>host:port where its worker listens (used by the cluster, not by the planner).</summary>
    public string Address { get; init; } = string.Empty;

    /// <summary>Memory the node may use for its parts (parameters and live activations).</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Speed relative to the calibrated machine (2.0 = twice as fast); NaN ("measure" in a file): measured by the cluster.</summary>
    [JsonConverter(typeof(NodeSpeedConverter))]
    public double Speed { get; init; } = 1.0;

    /// <summary>True when the speed is to be measured on the worker ("speed": "measure").</summary>
    [JsonIgnore]
    public bool MeasureSpeed => double.IsNaN(Speed);

    /// <summary>This node with <paramref name="speed"/> in place of its own.</summary>
    public ClusterNode WithSpeed(double speed) => new() { Name = Name, Address = Address, MemoryBytes = MemoryBytes, Speed = speed, Threads = Threads, Host = Host, HostCores = HostCores };

    /// <summary>Intra-op threads its sessions use.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// The machine the node runs on; nodes naming the same host share its <see cref="HostCores"/> and pass tensors
    /// through shared memory (<see cref="ClusterLink.SharedMemoryBandwidthBytesPerSecond"/>). Empty: a machine of its own.
    /// </summary>
    public string Host { get; init; } = string.Empty;

    /// <summary>Cores of <see cref="Host"/>, which its nodes' threads take turns on (0: unknown, as many as they use).</summary>
    public int HostCores { get; init; }
}
