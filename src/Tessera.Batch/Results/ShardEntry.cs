namespace Tessera.Batch.Results;

/// <summary>A journal line: shard <see cref="Shard"/> is written, with which workers ran its records.</summary>
public sealed record ShardEntry(int Shard, int Records, IReadOnlyDictionary<string, WorkerWork> Workers);
