namespace Tessera.Cluster.Coordinator;

/// <summary>
/// One stage of a route: the worker that runs it (rank 0 of a tensor-parallel group), the model's hash, and the
/// tensor names the stage reads; for a tensor-parallel stage, <see cref="OtherRanks"/> are ranks 1..T-1.
/// </summary>
public sealed record RouteStep(WorkerClient Worker, byte[] ModelHash, IReadOnlyList<string> Inputs)
{
    public IReadOnlyList<RouteShard> OtherRanks { get; init; } = [];

    /// <summary>Every worker of the step, rank order.</summary>
    public IEnumerable<WorkerClient> Workers => OtherRanks.Select(r => r.Worker).Prepend(Worker);

    public override string ToString() => string.Join("+", Workers.Select(w => w.Name));
}
