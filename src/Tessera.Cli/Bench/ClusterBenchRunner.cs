using Tessera.Cli.Common;
using Tessera.Cluster.Execution;
using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>
/// `tessera bench-cluster`: the same batch run by one in-process session and by local worker processes (data
/// parallel or pipelined), in one command, so the speed-up is measured on the same machine in the same minute.
/// Every distributed result is checked bit for bit against the single-process one before anything is timed.
/// </summary>
internal static class ClusterBenchRunner
{
    public static async Task<ClusterBenchResult> RunAsync(ClusterBenchSettings settings, Action<string> progress)
    {
        var graph = ModelReader.Load(settings.ModelPath);
        var feeds = BenchInputs.Build(graph.Graph.Inputs, settings.Inputs, settings.Shapes);
        int rows = BenchInputs.BatchSize(graph.Graph.Inputs, feeds);
        var duration = TimeSpan.FromSeconds(settings.Seconds);

        progress($"single process, {settings.Threads} thread(s) ...");
        var session = InferenceSession.Load(settings.ModelPath, new SessionOptions { Threads = settings.Threads });
        var expected = session.Run(feeds);
        var sink = Sink(expected);
        var single = ThroughputLoop.Measure(() => session.Run(feeds, sink), settings.Warmup, duration);
        var rowsOut = new List<ClusterBenchRow> { new("single process", 1, single.RunsPerSecond * rows, single.MedianMs, single.Runs) };

        progress($"starting {settings.Workers} local worker(s) of {settings.Threads} thread(s) ...");
        await using var cluster = await LocalCluster.StartAsync(settings.Workers, settings.Threads).ConfigureAwait(false);
        string[] outputs = [.. graph.Graph.Outputs.Select(o => o.Name)];
        List<ClusterBenchRow> stageRows = [];
        Func<Task<IReadOnlyDictionary<string, Tensor>>> distributed;
        string label;
        if (settings.Strategy == "data")
        {
            var replicas = await cluster.ReplicasAsync(settings.ModelPath).ConfigureAwait(false);
            // Each batch in flight receives into its own recycled output tensors, as the single process does into its sink.
            var sinks = new System.Collections.Concurrent.ConcurrentBag<Dictionary<string, Tensor>>();
            distributed = async () =>
            {
                var into = sinks.TryTake(out var free) ? free : Sink(expected);
                var result = await DataParallelRunner.RunAsync(cluster.Coordinator, replicas, feeds, outputs, into: into).ConfigureAwait(false);
                sinks.Add(into);
                return result;
            };
            label = $"data parallel, {settings.Workers} workers";
        }
        else
        {
            var (runner, directory) = await cluster.PlanAsync(settings.ModelPath, LocalCluster.Shapes(feeds), PlanStrategy.Pipeline, settings.Stages ?? settings.Workers, PlanObjective.Throughput).ConfigureAwait(false);
            distributed = () => runner.RunAsync(feeds);
            label = $"pipeline, {runner.Plan.Stages.Count} stages on {settings.Workers} workers";
            progress("each stage alone in this process ...");
            stageRows = StagesAlone(runner.Plan, directory, feeds, settings, rows);
        }

        var got = await distributed().ConfigureAwait(false);
        string? differs = outputs.FirstOrDefault(o => !got[o].Bytes.SequenceEqual(expected[o].Bytes) || !got[o].Shape.SequenceEqual(expected[o].Shape));
        if (differs is not null)
        {
            throw new CliException($"the {label} output '{differs}' differs from the single-process output");
        }

        progress($"{label}, {settings.InFlight} batch(es) in flight ...");
        var spread = await ThroughputLoop.MeasureAsync(distributed, settings.InFlight, settings.Warmup, duration).ConfigureAwait(false);
        rowsOut.Add(new ClusterBenchRow(label, settings.InFlight, spread.RunsPerSecond * rows, spread.MedianMs, spread.Runs));
        return new ClusterBenchResult(settings, rows, rowsOut, stageRows);
    }

    /// <summary>Each stage's sub-model in this process on the values the stages before it compute, one after another.</summary>
    private static List<ClusterBenchRow> StagesAlone(PlanDocument plan, string directory, IReadOnlyDictionary<string, Tensor> feeds, ClusterBenchSettings settings, int rows)
    {
        var values = new Dictionary<string, Tensor>(feeds, StringComparer.Ordinal);
        var result = new List<ClusterBenchRow>();
        var duration = TimeSpan.FromSeconds(Math.Max(1, settings.Seconds / plan.Stages.Count));
        foreach (var stage in plan.Stages)
        {
            var session = InferenceSession.Load(Path.Combine(directory, stage.Model), new SessionOptions { Threads = settings.Threads });
            var stageFeeds = stage.Inputs.ToDictionary(n => n, n => values[n], StringComparer.Ordinal);
            var produced = session.Run(stageFeeds);
            foreach (var (name, tensor) in produced) values[name] = tensor;
            var sink = Sink(produced);
            var alone = ThroughputLoop.Measure(() => session.Run(stageFeeds, sink), settings.Warmup, duration);
            result.Add(new ClusterBenchRow($"stage {stage.Index} alone", 1, alone.RunsPerSecond * rows, alone.MedianMs, alone.Runs));
        }

        return result;
    }

    /// <summary>Output tensors to run into, so the single-process runs allocate nothing (as a tuned server would).</summary>
    private static Dictionary<string, Tensor> Sink(IReadOnlyDictionary<string, Tensor> like) =>
        like.ToDictionary(kv => kv.Key, kv => Tensor.Allocate(kv.Value.DataType, kv.Value.Shape), StringComparer.Ordinal);
}
