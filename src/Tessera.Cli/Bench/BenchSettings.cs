namespace Tessera.Cli.Bench;

/// <summary>What `tessera bench` was asked to do, after the command line has been checked.</summary>
internal sealed record BenchSettings(
    string ModelPath,
    string[] InputSpecs,
    string[] ShapeSpecs,
    int Threads,
    int Warmup,
    int Iterations,
    double? MaxSeconds);
