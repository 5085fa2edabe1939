namespace Tessera.Cli.Bench;

/// <summary>What `tessera bench` was asked to do, after the command line has been checked.</summary>
internal sealed record BenchSettings(
    string ModelPath,
    string[] InputSpecs,
    string[] ShapeSpecs,
    int Threads,
    int Warmup,
    int Iterations,
    double? MaxSeconds,
    int ProfileTop = 0)
{
    /// <summary>Time every node over the timed runs (and list the <see cref="ProfileTop"/> slowest).</summary>
    public bool Profile => ProfileTop > 0;
}
