namespace Tessera.Cluster.Coordinator;

/// <summary>
/// A chain of stages a request travels through, worker to worker. Replicas of the same computation are
/// alternative routes; a request fails over from one to another.
/// </summary>
public sealed record Route(IReadOnlyList<RouteStep> Stages)
{
    public IReadOnlyCollection<WorkerClient> Workers => Stages.Select(s => s.Worker).Distinct().ToArray();

    public bool IsUp => Stages.All(s => s.Worker.IsUp);

    public override string ToString() => string.Join(" -> ", Stages.Select(s => s.Worker.Name));
}
