using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Coordinator;

/// <summary>How often a coordinator checks its workers and how long it waits for them.</summary>
public sealed record CoordinatorOptions
{
    /// <summary>Time between heartbeats to each worker.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A worker from which nothing arrived for this long is marked down (its requests fail over).</summary>
    public TimeSpan DownAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time between attempts to reconnect to a worker that is down (it comes back up when one succeeds).</summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest a request may take end to end before it fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TransportLimits Limits { get; init; } = TransportLimits.Default;

    /// <summary>TLS on every connection to a worker and on joins it accepts; null: none.</summary>
    public ClusterTls? Tls { get; init; }

    /// <summary>
    /// How the float32 tensors of this coordinator's requests travel between processes: inputs to the first stage,
    /// activations between stages, the stage's inputs relayed to the other ranks of a tensor-parallel group, their
    /// partial sums (AllReduce), and the results. <see cref="WireDataType.Float32"/> (the default) sends them as they
    /// are, bit-identical; float16 or bfloat16 halve their bytes and round each value once per hop.
    /// </summary>
    public WireDataType WireDataType { get; init; } = WireDataType.Float32;
}
