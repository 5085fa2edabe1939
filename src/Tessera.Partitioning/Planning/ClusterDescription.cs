using System.Text.Json;
using Tessera.Partitioning.Plans;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// The machines a plan is made for: nodes with a memory budget, a relative speed and threads, and the link
/// between them. Read from JSON (see docs/plan-format.md); every problem is a <see cref="PartitionException"/>
/// with a one-line message.
/// </summary>
public sealed class ClusterDescription
{
    public required List<ClusterNode> Nodes { get; init; }

    public ClusterLink Link { get; init; } = new();

    public static ClusterDescription Load(string path) => Parse(PlanJson.ReadFile(path, "cluster file"), path);

    public static ClusterDescription Parse(string json, string displayName = "cluster")
    {
        var cluster = PlanJson.Parse<ClusterDescription>(json, "cluster file", displayName);
        cluster.Validate($"cluster file '{displayName}'");
        return cluster;
    }

    public string ToJson() => JsonSerializer.Serialize(this, PlanJson.Options);

    public ClusterNode Node(string name) => Nodes.First(n => n.Name == name);

    /// <summary>Throws a <see cref="PartitionException"/> naming the first problem, prefixed by <paramref name="where"/>.</summary>
    public void Validate(string where)
    {
        if (Nodes is null || Nodes.Count == 0) throw new PartitionException($"{where}: \"nodes\" must list at least one node");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
        {
            var node = Nodes[i];
            string at = $"{where}: nodes[{i}]";
            if (node is null) throw new PartitionException($"{at} is null");
            if (string.IsNullOrWhiteSpace(node.Name)) throw new PartitionException($"{at}.name must be a non-empty string");
            if (!seen.Add(node.Name)) throw new PartitionException($"{at}.name '{node.Name}' is used by another node");
            if (node.MemoryBytes <= 0) throw new PartitionException($"{at}.memoryBytes must be a positive number of bytes (node '{node.Name}')");
            if (!node.MeasureSpeed && (!(node.Speed > 0) || double.IsInfinity(node.Speed))) throw new PartitionException($"{at}.speed must be a positive number or \"measure\" (node '{node.Name}')");
            if (node.Threads < 1) throw new PartitionException($"{at}.threads must be 1 or more (node '{node.Name}')");
            if (node.HostCores < 0) throw new PartitionException($"{at}.hostCores must be 0 or more (node '{node.Name}')");
            if (!string.IsNullOrEmpty(node.Host) && Nodes.Take(i).FirstOrDefault(n => n.Host == node.Host && n.HostCores != node.HostCores) is { } other)
            {
                throw new PartitionException($"{at}.hostCores is {node.HostCores}, but node '{other.Name}' on host '{node.Host}' says {other.HostCores}");
            }
        }

        if (Link is null) throw new PartitionException($"{where}: \"link\" must be an object");
        if (!(Link.BandwidthBytesPerSecond > 0) || double.IsInfinity(Link.BandwidthBytesPerSecond))
        {
            throw new PartitionException($"{where}: link.bandwidthBytesPerSecond must be a positive number");
        }

        if (!(Link.SharedMemoryBandwidthBytesPerSecond > 0) || double.IsInfinity(Link.SharedMemoryBandwidthBytesPerSecond) || !(Link.SharedMemoryLatencySeconds >= 0) || double.IsInfinity(Link.SharedMemoryLatencySeconds))
        {
            throw new PartitionException($"{where}: link.sharedMemoryBandwidthBytesPerSecond must be a positive number and link.sharedMemoryLatencySeconds 0 or more");
        }

        if (!(Link.LatencySeconds >= 0) || double.IsInfinity(Link.LatencySeconds))
        {
            throw new PartitionException($"{where}: link.latencySeconds must be 0 or more");
        }
    }
}
