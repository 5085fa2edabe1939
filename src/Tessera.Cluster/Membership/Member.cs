using Tessera.Cluster.Coordinator;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;

namespace Tessera.Cluster.Membership;

/// <summary>A worker of the cluster: the connection to it and how the planner sees it (name, memory, speed, threads).</summary>
public sealed record Member(ClusterNode Node, WorkerClient Worker)
{
    /// <summary>
    /// The node as the planner should see it: a speed of "measure" becomes the worker's measured matrix-product rate
    /// relative to <paramref name="calibration"/>'s (1 when the worker measured nothing).
    /// </summary>
    public ClusterNode Planned(CalibrationProfile calibration) =>
        !Node.MeasureSpeed ? Node : Node.WithSpeed(Worker.Info.MatrixFlopsPerSecond > 0 ? Worker.Info.MatrixFlopsPerSecond / calibration.MatrixProductFlopsPerSecond : 1);
}
