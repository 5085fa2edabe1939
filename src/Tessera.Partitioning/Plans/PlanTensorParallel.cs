namespace Tessera.Partitioning.Plans;

/// <summary>
/// How a stage is sharded: degree 1 means not at all (the stage's own model runs on one node per replica);
/// degree T lists T shard files, rank r of every replica runs shard r.
/// </summary>
public sealed class PlanTensorParallel
{
    public required int Degree { get; init; }

    public List<PlanShard> Shards { get; init; } = [];
}
