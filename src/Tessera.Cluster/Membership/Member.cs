using Tessera.Cluster.Coordinator;
using Tessera.Partitioning.Planning;

namespace Tessera.Cluster.Membership;

/// <summary>A worker of the cluster: the connection to it and how the planner sees it (name, memory, speed, threads).</summary>
public sealed record Member(ClusterNode Node, WorkerClient Worker);
