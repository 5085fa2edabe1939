using System.Diagnostics;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>Loads the model, runs warm-up inferences, then times <see cref="InferenceSession.Run"/> one call after another.</summary>
internal static class BenchRunner
{
    public static BenchResult Run(BenchSettings settings)
    {
        long loadStart = Stopwatch.GetTimestamp();
        var session = InferenceSession.Load(settings.ModelPath, new SessionOptions { Threads = settings.Threads });
        double loadMs = Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds;

        var feeds = BenchInputs.Build(session.Inputs, settings.InputSpecs, settings.ShapeSpecs);
        double? firstRunMs = null;
        Dictionary<string, Tensor>? outputs = null;

        // Outputs land in tensors allocated once, as a serving loop reuses its buffers: the allocation count is the
        // engine's. Warm-up makes the same call as the timed loop, so that call's code is compiled before timing starts.
        void RunOnce()
        {
            if (outputs is null)
            {
                outputs = OwnCopies(session.Run(feeds));
            }
            else
            {
                session.Run(feeds, outputs);
            }
        }

        for (int i = 0; i < settings.Warmup; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RunOnce();
            firstRunMs ??= Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        var times = new double[settings.Iterations];
        long maxTicks = settings.MaxSeconds is { } s ? (long)(s * Stopwatch.Frequency) : long.MaxValue;

        // Start the timed loop with an empty heap, so a collection owed to loading or warm-up is not charged to it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);

        // Precise, and over every thread: the intra-op workers allocate too.
        long allocatedStart = GC.GetTotalAllocatedBytes(precise: true);
        if (settings.Profile)
        {
            session.StartProfiling();
        }

        long loopStart = Stopwatch.GetTimestamp();
        int runs = 0;
        while (runs < times.Length)
        {
            long start = Stopwatch.GetTimestamp();
            RunOnce();
            long end = Stopwatch.GetTimestamp();
            times[runs++] = (end - start) * 1000.0 / Stopwatch.Frequency;
            if (end - loopStart >= maxTicks)
            {
                break;
            }
        }

        double loopSeconds = Stopwatch.GetElapsedTime(loopStart).TotalSeconds;
        var profile = settings.Profile ? session.StopProfiling() : null;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedStart;
        gen0 = GC.CollectionCount(0) - gen0;
        gen1 = GC.CollectionCount(1) - gen1;
        gen2 = GC.CollectionCount(2) - gen2;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpuStart).TotalMilliseconds;
        long peakWorkingSet = process.PeakWorkingSet64;

        // Counted on a second copy of the model: shape inference annotates the graph it walks.
        var flops = FlopCounter.Count(ModelReader.Load(settings.ModelPath), feeds);

        return new BenchResult
        {
            Settings = settings,
            Inputs = feeds.Select(f => $"{f.Key} {DataTypes.Name(f.Value.DataType)}{ShapeMath.Format(f.Value.Shape)}").ToArray(),
            Batch = BenchInputs.BatchSize(session.Inputs, feeds),
            LoadMs = loadMs,
            FirstRunMs = firstRunMs,
            TimedRuns = runs,
            Latency = LatencyStats.From(times.AsSpan(0, runs)),
            ThroughputPerSecond = runs / loopSeconds,
            CpuMsPerInference = cpuMs / runs,
            PeakWorkingSetBytes = peakWorkingSet,
            AllocatedBytesPerInference = (double)allocated / runs,
            Gen0PerInference = (double)gen0 / runs,
            Gen1PerInference = (double)gen1 / runs,
            Gen2PerInference = (double)gen2 / runs,
            Flops = flops,
            Profile = profile,
        };
    }

    private static Dictionary<string, Tensor> OwnCopies(IReadOnlyDictionary<string, Tensor> outputs) =>
        outputs.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
}
