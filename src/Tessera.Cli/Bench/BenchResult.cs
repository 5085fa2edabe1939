using Tessera.Engine.Profiling;

namespace Tessera.Cli.Bench;

/// <summary>Everything one benchmark run measured.</summary>
internal sealed record BenchResult
{
    public required BenchSettings Settings { get; init; }

    /// <summary>Each input as "name dtype[shape]".</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    public required int Batch { get; init; }

    public required double LoadMs { get; init; }

    /// <summary>The first warm-up run (JIT, first touch of memory), or null without warm-up.</summary>
    public required double? FirstRunMs { get; init; }

    public required int TimedRuns { get; init; }

    public required LatencyStats Latency { get; init; }

    /// <summary>Timed runs divided by the wall time of the whole timed loop.</summary>
    public required double ThroughputPerSecond { get; init; }

    public double ItemsPerSecond => ThroughputPerSecond * Batch;

    /// <summary>Process CPU time (all threads) over the timed loop, per inference.</summary>
    public required double CpuMsPerInference { get; init; }

    public required long PeakWorkingSetBytes { get; init; }

    public required double AllocatedBytesPerInference { get; init; }

    public required double Gen0PerInference { get; init; }

    public required double Gen1PerInference { get; init; }

    public required double Gen2PerInference { get; init; }

    public required FlopCounter.Result Flops { get; init; }

    /// <summary>Time per node over the timed runs, with --profile.</summary>
    public SessionProfile? Profile { get; init; }

    /// <summary>GFLOP/s at the median latency, when the FLOP count covers every counted kind of node.</summary>
    public double? GflopsPerSecond => Flops.UnknownNodes == 0 && Flops.CountedNodes > 0 ? Flops.Flops / (Latency.MedianMs * 1e6) : null;
}
