namespace Tessera.Partitioning.Plans;

/// <summary>One rank's sub-model of a tensor-parallel stage.</summary>
public sealed class PlanShard
{
    public required int Rank { get; init; }

    /// <summary>File name inside the plan folder.</summary>
    public required string Model { get; init; }

    public required string Sha256 { get; init; }
}
