using Tessera.Onnx.Graph;
using Tessera.Partitioning.Cost;

namespace Tessera.Partitioning.Planning;

/// <summary>What to plan: a model at fixed input shapes, the cluster, which strategies, and what to optimise.</summary>
public sealed class PlanRequest
{
    public required OnnxModel Model { get; init; }

    /// <summary>Shapes of the inputs whose declared shape is not fixed (declared fixed ones may be omitted).</summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; init; } = new Dictionary<string, int[]>();

    public required ClusterDescription Cluster { get; init; }

    public PlanStrategy Strategy { get; init; } = PlanStrategy.Auto;

    public PlanObjective Objective { get; init; } = PlanObjective.Latency;

    /// <summary>Fixes the number of pipeline stages (P) when set.</summary>
    public int? Stages { get; init; }

    /// <summary>Fixes the tensor-parallel degree (T) when set.</summary>
    public int? Degree { get; init; }

    /// <summary>Fixes the number of data-parallel replicas (D) when set.</summary>
    public int? Replicas { get; init; }

    public CalibrationProfile Calibration { get; init; } = CalibrationProfile.Default;
}
