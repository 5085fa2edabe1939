using Tessera.Batch.Results;

namespace Tessera.Batch;

/// <summary>What `tessera batch` was asked: the model, the dataset (a folder of .npy or a .parquet file) and the output (a folder, or a .parquet file).</summary>
public sealed record BatchRequest(string ModelPath, string DataPath, string OutPath)
{
    /// <summary>Records per shard; null: from the journal when resuming, else a default.</summary>
    public int? ShardRows { get; init; }

    /// <summary>Records per inference call; null: about a megabyte of inputs, at most a shard.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Finish the unfinished job whose journal the output holds.</summary>
    public bool Resume { get; init; }

    /// <summary>How many workers are expected, so the default shard size leaves each several shards to pull.</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>A reduction of each output over the records, in the manifest.</summary>
    public AggregateKind? Aggregate { get; init; }
}
