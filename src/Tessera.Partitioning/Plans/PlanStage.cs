namespace Tessera.Partitioning.Plans;

/// <summary>
/// One pipeline stage: a standalone ONNX sub-model, the tensors it receives (all from the previous stage, or the
/// request for stage 0) and sends on (the next stage's inputs, or the model outputs for the last stage), where it
/// runs, and what it is expected to cost.
/// </summary>
public sealed class PlanStage
{
    public required int Index { get; init; }

    /// <summary>Sub-model file name inside the plan folder.</summary>
    public required string Model { get; init; }

    public required string Sha256 { get; init; }

    /// <summary>Every cluster node running this stage (all replicas and ranks), in replica then rank order.</summary>
    public required List<string> Nodes { get; init; }

    /// <summary>Number of graph nodes run per inference (folded constant nodes not counted).</summary>
    public required int GraphNodes { get; init; }

    /// <summary>First and last graph node of the stage, for people reading the plan.</summary>
    public string FirstNode { get; init; } = string.Empty;

    public string LastNode { get; init; } = string.Empty;

    public required List<string> Inputs { get; init; }

    public required List<string> Outputs { get; init; }

    public required long ParameterBytes { get; init; }

    /// <summary>Parameters plus the peak of live activations at the planned input shapes, per replica (the largest share).</summary>
    public required long PeakMemoryBytes { get; init; }

    /// <summary>Compute plus receiving its inputs, for the slowest replica at the planned shapes.</summary>
    public required double EstimatedSeconds { get; init; }

    public required PlanTensorParallel TensorParallel { get; init; }

    public required List<PlanReplica> Replicas { get; init; }
}
