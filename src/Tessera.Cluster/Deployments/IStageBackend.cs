using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// Where one stage of a placement runs: in this process (<see cref="LocalStage"/>: a session, or a tensor-parallel
/// group of sessions) or on workers (<see cref="RemoteStage"/>: one worker, or a tensor-parallel group of workers).
/// A placement is a chain of stages; consecutive stages that one backend can chain (workers forward their values to
/// the next worker themselves) run as one segment, so a remote pipeline's tensors go worker to worker and never come
/// back through this process between stages.
/// </summary>
public interface IStageBackend
{
    /// <summary>The values the stage reads (inputs of the model, or outputs of earlier stages).</summary>
    IReadOnlyList<string> Inputs { get; }

    /// <summary>The workers the stage runs on, rank order; none in this process.</summary>
    IReadOnlyList<WorkerClient> Workers { get; }

    /// <summary>True while the stage can take requests (every worker of it is up).</summary>
    bool IsUp { get; }

    /// <summary>True when the stage computes apart from the others (in its own process), so consecutive micro-batches can be in different stages at once.</summary>
    bool RunsApart { get; }

    /// <summary>True when <paramref name="next"/> runs in the same segment as this stage (its values are handed on without returning here).</summary>
    bool Chains(IStageBackend next);

    /// <summary>
    /// What runs of the stage have cost at each batch size, as the engine measured them where the stage runs (CPU time per
    /// run); empty when the stage does not measure them.
    /// </summary>
    Task<BatchCost[]> MeasuredCostsAsync(CancellationToken cancellation);

    /// <summary>
    /// Runs <paramref name="segment"/> (this stage first, then the stages it chains) on <paramref name="values"/> and
    /// returns <paramref name="outputs"/>, read into the storage <paramref name="place"/> gives where it gives one.
    /// A failure of the placement itself (a worker down, a stage unreachable) is a <see cref="ClusterException"/> with
    /// <see cref="ClusterErrorCode.WorkerDown"/> or <see cref="ClusterErrorCode.RouteFailed"/>: the deployment runs the
    /// request again on another placement. A remote segment's task completes on the receive loop of the connection its
    /// answer came in on (<see cref="PendingRequests"/>): its caller moves to the pool before blocking or foreign code.
    /// </summary>
    Task<IReadOnlyDictionary<string, Tensor>> RunSegmentAsync(IReadOnlyList<IStageBackend> segment, IReadOnlyDictionary<string, Tensor> values, IReadOnlyList<string> outputs, OutputPlacement? place, CancellationToken cancellation);
}
