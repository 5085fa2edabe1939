namespace Tessera.Batch.Scheduling;

/// <summary>Shard <see cref="Index"/>: records [<see cref="First"/>, First + <see cref="Records"/>) of the dataset.</summary>
public readonly record struct Shard(int Index, long First, int Records)
{
    /// <summary>The shards of <paramref name="records"/> records cut every <paramref name="shardRows"/>: the last may be shorter.</summary>
    public static Shard[] Cut(long records, int shardRows)
    {
        long count = (records + shardRows - 1) / shardRows;
        if (count > int.MaxValue) throw new BatchException($"{records} records in shards of {shardRows} make {count} shards: give a larger --shard-rows");
        return [.. Enumerable.Range(0, (int)count).Select(i => new Shard(i, (long)i * shardRows, (int)Math.Min(shardRows, records - ((long)i * shardRows))))];
    }
}
