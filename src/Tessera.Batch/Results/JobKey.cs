namespace Tessera.Batch.Results;

/// <summary>
/// What makes two runs the same job, so that one may finish what the other started: the model's bytes, the dataset
/// (its files' names, sizes and times, and its record count) and the shard size (which fixes every shard's records).
/// </summary>
public sealed record JobKey(string ModelSha256, string Data, long Records, int ShardRows)
{
    public string Describe() => $"model sha256 {ModelSha256[..12]}..., data {Data}, {Records} records, shards of {ShardRows}";
}
