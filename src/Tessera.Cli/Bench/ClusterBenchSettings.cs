namespace Tessera.Cli.Bench;

/// <summary>
/// What `tessera bench-cluster` runs: the model and its inputs, the workers, the strategy, how float32 tensors travel
/// between the processes, and for how long.
/// </summary>
internal sealed record ClusterBenchSettings(
    string ModelPath,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Shapes,
    int Workers,
    int Threads,
    string Strategy,
    int? Stages,
    int? MicroBatchesPerStage,
    int? InFlight,
    int Warmup,
    double Seconds,
    int Rounds,
    Tessera.Cluster.Transport.WireDataType Wire = Tessera.Cluster.Transport.WireDataType.Float32);
