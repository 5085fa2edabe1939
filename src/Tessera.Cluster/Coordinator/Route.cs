using Tessera.Cluster.Transport.Messages;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// A chain of stages a request travels through, worker to worker (a tensor-parallel stage is a group of workers).
/// Replicas of the same computation are alternative routes; a request fails over from one to another.
/// </summary>
public sealed record Route(IReadOnlyList<RouteStep> Stages)
{
    private WorkerClient[]? _workers;
    private RouteStage[]? _runStages;

    /// <summary>Every worker of the route, each once (computed once: a route is asked on every request).</summary>
    public IReadOnlyCollection<WorkerClient> Workers => _workers ??= [.. Stages.SelectMany(s => s.Workers).Distinct()];

    /// <summary>The stages as a RUN names them: each rank's model hash and address (computed once, as <see cref="Workers"/>; read, never written).</summary>
    internal RouteStage[] RunStages => _runStages ??= [.. Stages.Select(s => new RouteStage(
        [new RouteRank(s.ModelHash, s.Worker.Address), .. s.OtherRanks.Select(r => new RouteRank(r.ModelHash, r.Worker.Address))], [.. s.Inputs]))];

    public bool IsUp => Stages.All(s => s.Workers.All(w => w.IsUp));

    public override string ToString() => string.Join(" -> ", Stages.Select(s => s.ToString()));
}
