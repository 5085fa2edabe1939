using Tessera.Cluster.Coordinator;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;

namespace Tessera.Cluster.Membership;

/// <summary>A worker of the cluster: the connection to it and how the planner sees it (name, memory, speed, threads).</summary>
public sealed record Member(ClusterNode Node, WorkerClient Worker)
{
    /// <summary>
    /// The node as the planner should see it: a speed of "measure" becomes the worker's measured matrix-product rate
    /// relative to <paramref name="calibration"/>'s (1 when the worker measured nothing); a node that names no host is on
    /// the host the worker reported (its boot id, READY and PONG), so workers of one machine are planned as sharing its
    /// cores and passing tensors through shared memory, as they do.
    /// </summary>
    public ClusterNode Planned(CalibrationProfile calibration)
    {
        var node = !Node.MeasureSpeed ? Node : Node.WithSpeed(Worker.Info.MatrixFlopsPerSecond > 0 ? Worker.Info.MatrixFlopsPerSecond / calibration.MatrixProductFlopsPerSecond : 1);
        if (!string.IsNullOrEmpty(node.Host) || Worker.Info.HostId == Guid.Empty || Worker.Info.Processors < 1) return node;
        return new ClusterNode
        {
            Name = node.Name, Address = node.Address, MemoryBytes = node.MemoryBytes, Speed = node.Speed, Threads = node.Threads,
            Host = Worker.Info.HostId.ToString("N"), HostCores = Worker.Info.Processors,
        };
    }
}
