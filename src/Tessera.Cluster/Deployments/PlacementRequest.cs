using Tessera.Onnx.Graph;
using Tessera.Partitioning.Planning;

namespace Tessera.Cluster.Deployments;

/// <summary>What to place where: a model file, the strategy, and the shapes and goal its plan is made for.</summary>
public sealed record PlacementRequest(string ModelPath, OnnxModel Model, DeploymentStrategy Strategy)
{
    /// <summary>Input shapes to plan for; null: the batch axis at one row per worker, other free dimensions at 1 (serving, which has no request yet).</summary>
    public IReadOnlyDictionary<string, int[]>? InputShapes { get; init; }

    /// <summary>Pipeline stages (default: one per worker).</summary>
    public int? Stages { get; init; }

    /// <summary>Tensor-parallel degree (default: every worker).</summary>
    public int? Degree { get; init; }

    public PlanObjective Objective { get; init; } = PlanObjective.Latency;
}
