namespace Tessera.Partitioning.Plans;

/// <summary>The model a plan was made from: its path when planned and the SHA-256 of its bytes (lowercase hex).</summary>
public sealed class PlanModelFile
{
    public required string Path { get; init; }

    public required string Sha256 { get; init; }
}
