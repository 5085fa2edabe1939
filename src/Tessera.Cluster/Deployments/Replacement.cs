using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Membership;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// What lets a deployment place itself again: the coordinator, the members it may use (read at every re-placement,
/// so workers that join are seen), and the model and strategy to place.
/// </summary>
public sealed record Replacement(ClusterCoordinator Coordinator, Func<IReadOnlyList<Member>> Members, PlacementRequest Request);
