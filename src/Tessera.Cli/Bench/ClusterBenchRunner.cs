using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Engine.Quantization;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>
/// `tessera bench-cluster`: the same batch run by one in-process session and by local worker processes (data
/// parallel or pipelined), in one command, so the speed-up is measured on the same machine in the same minute.
/// Every distributed result is checked bit for bit against the single-process one before anything is timed; with a
/// narrowed wire data type its error against it (max abs, cosine) is measured instead, and so are the bytes of tensor
/// data the processes sent each other for that batch.
/// </summary>
internal static class ClusterBenchRunner
{
    public static async Task<ClusterBenchResult> RunAsync(ClusterBenchSettings settings, Action<string> progress)
    {
        var graph = ModelReader.Load(settings.ModelPath);
        var feeds = BenchInputs.Build(graph.Graph.Inputs, settings.Inputs, settings.Shapes);
        int rows = BenchInputs.BatchSize(graph.Graph.Inputs, feeds);
        var duration = TimeSpan.FromSeconds(settings.Seconds);

        progress($"loading the model in this process, {settings.Threads} thread(s) ...");
        var session = InferenceSession.Load(settings.ModelPath, new SessionOptions { Threads = settings.Threads });
        var expected = session.Run(feeds);
        var sink = Sink(expected);
        ClusterBenchRow Single()
        {
            var cpu = new CpuWindow();
            var single = ThroughputLoop.Measure(() => session.Run(feeds, sink), settings.Warmup, duration, cpu.Start);
            return new("single process", 1, single.RunsPerSecond * rows, single.MedianMs, single.Runs, cpu.OwnMsPer(single.Runs * rows));
        }

        int besides = Math.Clamp(Environment.ProcessorCount / settings.Threads, 1, settings.Workers);
        var sideBySide = SideBySide(settings, feeds, expected, rows, besides);

        progress($"starting {settings.Workers} local worker(s) of {settings.Threads} thread(s) ...");
        await using var cluster = await LocalCluster.StartAsync(settings.Workers, settings.Threads, settings.Wire).ConfigureAwait(false);
        string[] outputs = [.. graph.Graph.Outputs.Select(o => o.Name)];
        Func<List<ClusterBenchRow>>? stagesAlone = null;
        Func<Task<List<ClusterBenchRow>>>? stagesBeside = null;
        string label;
        var options = new DeploymentOptions { MicroBatchesPerStage = settings.MicroBatchesPerStage };
        await using var deployment = settings.Strategy == "data"
            ? await cluster.DeployAsync(settings.ModelPath, DeploymentStrategy.Data, feeds, options: options).ConfigureAwait(false)
            : await cluster.DeployAsync(settings.ModelPath, DeploymentStrategy.Pipeline, feeds, PlanObjective.Throughput, settings.Stages ?? settings.Workers, options: options).ConfigureAwait(false);
        if (deployment.Plan is { } plan)
        {
            label = $"pipeline, {plan.Stages.Count} stages on {settings.Workers} workers";
            (stagesAlone, stagesBeside) = StageTimers(plan, deployment.PlanDirectory!, feeds, settings, rows, besides);
        }
        else
        {
            label = $"data parallel, {settings.Workers} workers";
        }

        // Batches kept going: as given, else the deployment's own window (what serving and batch jobs keep in flight).
        int inFlight = settings.InFlight ?? deployment.Window;

        // Each batch in flight takes its outputs as views of the worker's shared-memory ring where they can stay there
        // (given back once the batch is done, as a server gives them back once its answer is written), else receives
        // them into its own recycled output tensors, as the single process does into its sink.
        // The timed loop never blocks between batches (it gives the outputs back and sends the next batch), so it goes on
        // on the receive loop that read the last answer instead of being handed to the thread pool (callerNeverBlocks),
        // and leaves that loop once the window is over, before anything else runs.
        var sinks = new System.Collections.Concurrent.ConcurrentBag<Dictionary<string, Tensor>>();
        async Task distributed(Action<IReadOnlyDictionary<string, Tensor>>? use, bool callerNeverBlocks = false)
        {
            var into = sinks.TryTake(out var free) ? free : Sink(expected);
            using (var result = await deployment.RunLeasedAsync(feeds, into: into, callerNeverBlocks: callerNeverBlocks).ConfigureAwait(false))
            {
                use?.Invoke(result);
            }

            sinks.Add(into);
        }

        long sentBefore = await cluster.Coordinator.TensorBytesSentAsync().ConfigureAwait(false);
        QuantizationError[] errors = [];
        await distributed(got =>
        {
            string? differs = outputs.FirstOrDefault(o => !got[o].Shape.SequenceEqual(expected[o].Shape) || (settings.Wire == WireDataType.Float32 && !got[o].Bytes.SequenceEqual(expected[o].Bytes)));
            if (differs is not null)
            {
                throw new CliException($"the {label} output '{differs}' differs from the single-process output");
            }

            // Narrowed on the wire, a result is compared by its error; the float32 wire must stay bit-identical (above).
            if (settings.Wire != WireDataType.Float32)
            {
                errors = [.. outputs.Where(o => expected[o].DataType == DataType.Float32).Select(o => QuantizationError.Between(o, expected[o], got[o]))];
            }
        }).ConfigureAwait(false);
        long wireBytes = await cluster.Coordinator.TensorBytesSentAsync().ConfigureAwait(false) - sentBefore;

        // This machine's speed drifts from one minute to the next, so the sides take turns in every round (the first
        // side alternating) and each is reported by its best round, the least disturbed one, as bench/run.sh does.
        async Task<(ClusterBenchRow, ClusterBenchRow, List<ClusterBenchRow>, List<ClusterBenchRow>)> Alone(int r)
        {
            progress($"round {r + 1} of {settings.Rounds}: single process, {settings.Threads} thread(s) ...");
            var single = Single();
            progress($"round {r + 1} of {settings.Rounds}: {besides} single sessions side by side ...");
            var besideRow = await sideBySide(duration).ConfigureAwait(false);
            if (stagesAlone is null || stagesBeside is null) return (single, besideRow, [], []);
            progress($"round {r + 1} of {settings.Rounds}: each stage alone in this process ...");
            var stages = stagesAlone();
            progress($"round {r + 1} of {settings.Rounds}: each stage beside itself, {besides} sessions at once ...");
            return (single, besideRow, stages, await stagesBeside().ConfigureAwait(false));
        }

        async Task<ClusterBenchRow> Spread(int r)
        {
            progress($"round {r + 1} of {settings.Rounds}: {label}, {inFlight} batch(es) in flight ...");
            var cpu = new CpuWindow(cluster);
            var m = await ThroughputLoop.MeasureAsync(() => distributed(null, callerNeverBlocks: true), inFlight, settings.Warmup, duration, cpu.Start).ConfigureAwait(false);
            await Task.Yield();
            int done = m.Runs * rows;
            return new ClusterBenchRow(label, inFlight, m.RunsPerSecond * rows, m.MedianMs, m.Runs, cpu.WorkersMsPer(done), cpu.OwnMsPer(done));
        }

        var rounds = new List<ClusterBenchRound>();
        for (int r = 0; r < settings.Rounds; r++)
        {
            ClusterBenchRow single, beside, spread;
            List<ClusterBenchRow> stages, stagesBesideRows;
            if (r % 2 == 0)
            {
                (single, beside, stages, stagesBesideRows) = await Alone(r).ConfigureAwait(false);
                spread = await Spread(r).ConfigureAwait(false);
            }
            else
            {
                spread = await Spread(r).ConfigureAwait(false);
                (single, beside, stages, stagesBesideRows) = await Alone(r).ConfigureAwait(false);
            }

            rounds.Add(new ClusterBenchRound(single, spread, stages, beside) { StagesBeside = stagesBesideRows });
        }

        // What the micro-batch choice did over the whole run and the costs it chose from: each stage's measured
        // seconds per run at each batch size, as its worker reports them.
        var cuts = deployment.Placements.SelectMany(p => p.MicroBatchCuts).GroupBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
        BatchCost[][] stageCosts = [];
        try
        {
            if (deployment.Plan is not null) stageCosts = await Task.WhenAll(deployment.Placements[0].Stages.Select(s => s.MeasuredCostsAsync(CancellationToken.None))).ConfigureAwait(false);
        }
        catch (ClusterException e)
        {
            // The timings stand; only this report of the costs is lost (a worker restarted, say).
            progress($"the stages' measured costs could not be read: {e.Message}");
        }

        return new ClusterBenchResult(settings, rows, rounds) { WireBytesPerBatch = wireBytes, WireErrors = errors, MicroBatchCuts = cuts, StageCosts = stageCosts };
    }

    /// <summary>
    /// Loads <paramref name="count"/> more sessions of the whole model; the function returned runs them at once, each
    /// on its own thread with the whole batch, and reports their rows together. Nothing is distributed, yet every core
    /// computes at once: the CPU per row this costs above one session alone is what the machine itself charges for
    /// its cores working together (shared caches and memory bandwidth, or sibling hyper-threads under a VM's vCPUs),
    /// the floor any distributed run over those cores starts from.
    /// </summary>
    private static Func<TimeSpan, Task<ClusterBenchRow>> SideBySide(ClusterBenchSettings settings, IReadOnlyDictionary<string, Tensor> feeds, IReadOnlyDictionary<string, Tensor> expected, int rows, int count)
    {
        var free = new System.Collections.Concurrent.ConcurrentBag<(InferenceSession Session, Dictionary<string, Tensor> Sink)>();
        for (int i = 0; i < count; i++)
        {
            var session = InferenceSession.Load(settings.ModelPath, new SessionOptions { Threads = settings.Threads });
            free.Add((session, Sink(expected)));
        }

        // Each caller takes a free session for a run, so `count` runs go at once on `count` pool threads.
        Task run() => Task.Run(() =>
        {
            free.TryTake(out var s);
            s.Session.Run(feeds, s.Sink);
            free.Add(s);
        });
        return async duration =>
        {
            var cpu = new CpuWindow();
            var m = await ThroughputLoop.MeasureAsync(run, count, settings.Warmup, duration, cpu.Start).ConfigureAwait(false);
            return new ClusterBenchRow($"{count} single sessions side by side", count, m.RunsPerSecond * rows, m.MedianMs, m.Runs, cpu.OwnMsPer(m.Runs * rows));
        };
    }

    /// <summary>
    /// Loads <paramref name="copies"/> sessions of each stage's sub-model in this process on the values the stages before it
    /// compute; the functions returned time each stage alone (one session, one after another) and beside itself (every
    /// copy at once, each on its own thread, as <see cref="SideBySide"/> runs the whole model): the second is what a
    /// stage costs while the machine's other cores compute too, as they do in a pipeline that keeps them busy.
    /// </summary>
    private static (Func<List<ClusterBenchRow>> Alone, Func<Task<List<ClusterBenchRow>>> Beside) StageTimers(PlanDocument plan, string directory, IReadOnlyDictionary<string, Tensor> feeds, ClusterBenchSettings settings, int rows, int copies)
    {
        var values = new Dictionary<string, Tensor>(feeds, StringComparer.Ordinal);
        var loaded = new List<(int Index, Action[] Runs)>();
        foreach (var stage in plan.Stages)
        {
            var stageFeeds = stage.Inputs.ToDictionary(n => n, n => values[n], StringComparer.Ordinal);
            var runs = new Action[copies];
            for (int i = 0; i < copies; i++)
            {
                var session = InferenceSession.Load(Path.Combine(directory, stage.Model), new SessionOptions { Threads = settings.Threads });
                var produced = session.Run(stageFeeds);
                if (i == 0)
                {
                    foreach (var (name, tensor) in produced) values[name] = tensor;
                }

                var sink = Sink(produced);
                runs[i] = () => session.Run(stageFeeds, sink);
            }

            loaded.Add((stage.Index, runs));
        }

        var duration = TimeSpan.FromSeconds(Math.Max(1, settings.Seconds / plan.Stages.Count));
        List<ClusterBenchRow> alone() => [.. loaded.Select(s =>
        {
            var cpu = new CpuWindow();
            var m = ThroughputLoop.Measure(s.Runs[0], settings.Warmup, duration, cpu.Start);
            return new ClusterBenchRow($"stage {s.Index} alone", 1, m.RunsPerSecond * rows, m.MedianMs, m.Runs, cpu.OwnMsPer(m.Runs * rows));
        })];

        async Task<List<ClusterBenchRow>> beside()
        {
            var measured = new List<ClusterBenchRow>(loaded.Count);
            foreach (var (index, runs) in loaded)
            {
                // Each caller takes a free copy for a run, so every copy computes at once on its own pool thread.
                var free = new System.Collections.Concurrent.ConcurrentBag<Action>(runs);
                Task run() => Task.Run(() =>
                {
                    free.TryTake(out var copy);
                    copy!();
                    free.Add(copy);
                });
                var cpu = new CpuWindow();
                var m = await ThroughputLoop.MeasureAsync(run, copies, settings.Warmup, duration, cpu.Start).ConfigureAwait(false);
                // Rows per second per copy: one stage's rate while the other cores compute too (what the bound divides by).
                measured.Add(new ClusterBenchRow($"stage {index} beside itself", copies, m.RunsPerSecond * rows / copies, m.MedianMs, m.Runs, cpu.OwnMsPer(m.Runs * rows)));
            }

            return measured;
        }

        return (alone, beside);
    }

    /// <summary>Output tensors to run into, so the single-process runs allocate nothing (as a tuned server would).</summary>
    private static Dictionary<string, Tensor> Sink(IReadOnlyDictionary<string, Tensor> like) =>
        like.ToDictionary(kv => kv.Key, kv => Tensor.Allocate(kv.Value.DataType, kv.Value.Shape), StringComparer.Ordinal);
}
