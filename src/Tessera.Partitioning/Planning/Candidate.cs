using Tessera.Partitioning.Cost;

namespace Tessera.Partitioning.Planning;

/// <summary>
/// One combination the planner considered: D replicas x P stages x tensor degree T, where it would run, and its
/// estimate; or why it cannot run.
/// </summary>
public sealed class Candidate
{
    public required int Replicas { get; init; }

    public required int Stages { get; init; }

    public required int Degree { get; init; }

    public int NodeCount => Replicas * Stages * Degree;

    /// <summary>single, pipeline, data, tensor or hybrid.</summary>
    public string Strategy => ((Replicas > 1 ? 1 : 0) + (Stages > 1 ? 1 : 0) + (Degree > 1 ? 1 : 0)) switch
    {
        0 => "single",
        > 1 => "hybrid",
        _ => Replicas > 1 ? "data" : Stages > 1 ? "pipeline" : "tensor",
    };

    public string Shape => $"{Replicas}x{Stages}x{Degree}";

    public required bool Feasible { get; init; }

    /// <summary>Why the candidate cannot run (null when feasible).</summary>
    public string? Reason { get; init; }

    /// <summary>NaN when nothing could be estimated.</summary>
    public double LatencySeconds { get; init; } = double.NaN;

    public double ThroughputPerSecond { get; init; } = double.NaN;

    /// <summary>
    /// The host whose cores bound <see cref="ThroughputPerSecond"/> (its nodes' core-seconds per batch over its cores
    /// exceed the slowest stage's seconds); empty when the slowest stage bounds it.
    /// </summary>
    public string BoundingHost { get; init; } = string.Empty;

    public long MaxNodeMemoryBytes { get; init; }

    public IReadOnlyList<CandidateStage> StageEstimates { get; init; } = [];

    /// <summary>Node names per stage, per replica, per rank.</summary>
    public IReadOnlyList<IReadOnlyList<string[]>> Assignment { get; init; } = [];

    /// <summary>Relative batch share per replica.</summary>
    public IReadOnlyList<double> ReplicaWeights { get; init; } = [];

    /// <summary>
    /// For a hybrid candidate (stages of tensor degree above 1): the shards its stages are cut from; step indices
    /// of <see cref="StageEstimates"/> are then rank 0's shard steps. Null otherwise (steps of the model's cost).
    /// </summary>
    public ShardedCost? Sharded { get; internal init; }
}
