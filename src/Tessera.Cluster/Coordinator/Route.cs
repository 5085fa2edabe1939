namespace Tessera.Cluster.Coordinator;

/// <summary>
/// A chain of stages a request travels through, worker to worker (a tensor-parallel stage is a group of workers).
/// Replicas of the same computation are alternative routes; a request fails over from one to another.
/// </summary>
public sealed record Route(IReadOnlyList<RouteStep> Stages)
{
    private WorkerClient[]? _workers;

    /// <summary>Every worker of the route, each once (computed once: a route is asked on every request).</summary>
    public IReadOnlyCollection<WorkerClient> Workers => _workers ??= [.. Stages.SelectMany(s => s.Workers).Distinct()];

    public bool IsUp => Stages.All(s => s.Workers.All(w => w.IsUp));

    public override string ToString() => string.Join(" -> ", Stages.Select(s => s.ToString()));
}
