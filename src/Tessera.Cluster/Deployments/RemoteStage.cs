using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// A stage on workers: a <see cref="RouteStep"/> (one worker, or the ranks of a tensor-parallel group) reached through
/// a coordinator. Consecutive remote stages of one coordinator form one route: the request is sent to the first
/// stage's worker, each worker sends what later stages need straight to the next one, and the last answers.
/// </summary>
public sealed class RemoteStage(ClusterCoordinator coordinator, RouteStep step) : IStageBackend
{
    // The route of the segment this stage starts: a stage belongs to one placement, whose segments never change.
    private SegmentRoute? _route;

    public ClusterCoordinator Coordinator { get; } = coordinator;

    public RouteStep Step { get; } = step;

    public IReadOnlyList<string> Inputs => Step.Inputs;

    public IReadOnlyList<WorkerClient> Workers { get; } = [.. step.Workers];

    public bool IsUp
    {
        get
        {
            foreach (var worker in Workers) if (!worker.IsUp) return false; // a loop: asked for every batch
            return true;
        }
    }

    public bool RunsApart => true;

    public bool Chains(IStageBackend next) => next is RemoteStage r && ReferenceEquals(r.Coordinator, Coordinator);

    /// <summary>Rank 0's measurements: every rank of a group runs the same requests in step.</summary>
    public Task<BatchCost[]> MeasuredCostsAsync(CancellationToken cancellation) => Coordinator.MeasuredCostsAsync(Step.Worker, Step.ModelHash, cancellation);

    public Task<IReadOnlyDictionary<string, Tensor>> RunSegmentAsync(IReadOnlyList<IStageBackend> segment, IReadOnlyDictionary<string, Tensor> values, IReadOnlyList<string> outputs, OutputPlacement? place, CancellationToken cancellation)
    {
        var route = _route;
        if (route is null || !ReferenceEquals(route.Segment, segment))
        {
            _route = route = new SegmentRoute(segment, new Route([.. segment.Select(s => ((RemoteStage)s).Step)]));
        }

        // Answered inline on the receive loop: the deployment hands off to the pool before its callers' code runs.
        return Coordinator.RunAsync(route.Route, values, outputs, cancellation, place, inline: true);
    }

    private sealed record SegmentRoute(IReadOnlyList<IStageBackend> Segment, Route Route);

    public override string ToString() => Step.ToString();
}
