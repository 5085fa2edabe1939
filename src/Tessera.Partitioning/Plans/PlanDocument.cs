using Tessera.Partitioning.Planning;

namespace Tessera.Partitioning.Plans;

/// <summary>
/// plan.json: how to run one model on a cluster. Written by `tessera plan`, read by `tessera run --plan` and by the
/// cluster. Field by field in docs/plan-format.md; <see cref="PlanReader"/> validates it and <see cref="PlanWriter"/>
/// writes it deterministically.
/// </summary>
public sealed class PlanDocument
{
    public const int CurrentVersion = 1;

    public required int Version { get; init; }

    public required PlanModelFile Model { get; init; }

    /// <summary>single, pipeline, data, tensor or hybrid.</summary>
    public required string Strategy { get; init; }

    /// <summary>latency or throughput.</summary>
    public required string Objective { get; init; }

    /// <summary>The input shapes the plan was estimated for (other batch sizes run too when the model allows).</summary>
    public required Dictionary<string, int[]> InputShapes { get; init; }

    /// <summary>Model input names, in the model's order.</summary>
    public required List<string> Inputs { get; init; }

    /// <summary>Model output names, in the model's order.</summary>
    public required List<string> Outputs { get; init; }

    /// <summary>Present when stages have more than one replica.</summary>
    public PlanDataParallel? DataParallel { get; init; }

    public required PlanEstimate Estimate { get; init; }

    public required ClusterDescription Cluster { get; init; }

    public required List<PlanStage> Stages { get; init; }
}
