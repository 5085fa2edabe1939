namespace Tessera.Cli.Bench;

/// <summary>What `tessera bench-cluster` runs: the model and its inputs, the workers, the strategy, and for how long.</summary>
internal sealed record ClusterBenchSettings(
    string ModelPath,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Shapes,
    int Workers,
    int Threads,
    string Strategy,
    int? Stages,
    int? MicroBatchesPerStage,
    int InFlight,
    int Warmup,
    double Seconds,
    int Rounds);
