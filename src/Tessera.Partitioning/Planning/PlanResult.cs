using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;

namespace Tessera.Partitioning.Planning;

/// <summary>Everything the planner considered, in enumeration order, and the candidate it chose.</summary>
public sealed class PlanResult
{
    public required PlanRequest Request { get; init; }

    public required ModelCost Cost { get; init; }

    /// <summary>The batch axes, or null when the model cannot be split by batch (see <see cref="BatchReason"/>).</summary>
    public BatchAxes? Batch { get; init; }

    public string? BatchReason { get; init; }

    public required IReadOnlyList<Candidate> Candidates { get; init; }

    public required Candidate Chosen { get; init; }
}
