namespace Tessera.Batch.Results;

/// <summary>
/// What a finished job wrote (`manifest.json` in an output folder; the `tessera.manifest` key of a Parquet output's
/// metadata): the records and shards, the model and its SHA-256, each output, each worker's records and busy seconds
/// over every run, when the job started and ended, how many runs it took, and of this run: its seconds (from the first
/// shard sent to the manifest), the coordinator's CPU seconds over them and its peak resident memory (VmHWM), and the
/// workers' CPU seconds over them when the coordinator started the workers (`--workers N`; null for a cluster file's
/// workers, whose processes it cannot see, and for a job in one process).
/// </summary>
public sealed record BatchManifest(
    long Records,
    int Shards,
    int ShardRows,
    string Model,
    string ModelSha256,
    string Data,
    IReadOnlyDictionary<string, OutputInfo> Outputs,
    IReadOnlyDictionary<string, WorkerWork> Workers,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    int Runs,
    double RunSeconds,
    double CoordinatorCpuSeconds,
    long CoordinatorPeakRssBytes,
    double? WorkersCpuSeconds,
    IReadOnlyDictionary<string, AggregateResult>? Aggregate,
    JobKey Job);
