namespace Tessera.Partitioning.Plans;

/// <summary>
/// One data-parallel replica of a stage: the cluster nodes that run it (one per tensor-parallel rank) and its share
/// of every batch. Replica r of each stage feeds replica r of the next.
/// </summary>
public sealed class PlanReplica
{
    public required int Index { get; init; }

    /// <summary>Cluster node names, by tensor-parallel rank.</summary>
    public required List<string> Nodes { get; init; }

    /// <summary>Relative share of a batch (the same in every stage); rows are split by <see cref="Data.BatchSplit.Counts"/>.</summary>
    public required double BatchWeight { get; init; }
}
