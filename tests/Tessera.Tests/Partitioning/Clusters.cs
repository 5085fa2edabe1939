using Tessera.Partitioning.Planning;

namespace Tessera.Tests.Partitioning;

/// <summary>Cluster descriptions for tests.</summary>
internal static class Clusters
{
    public static ClusterDescription Of(params (double Speed, long Memory)[] nodes) => new()
    {
        Nodes = nodes.Select((n, i) => new ClusterNode { Name = ((char)('a' + i)).ToString(), Address = $"127.0.0.1:{7001 + i}", MemoryBytes = n.Memory, Speed = n.Speed }).ToList(),
        Link = new ClusterLink { BandwidthBytesPerSecond = 1.25e9, LatencySeconds = 2e-4 },
    };

    /// <summary>Nodes of the given speeds with 1 GB each.</summary>
    public static ClusterDescription WithSpeeds(params double[] speeds) => Of(speeds.Select(s => (s, 1_000_000_000L)).ToArray());
}
