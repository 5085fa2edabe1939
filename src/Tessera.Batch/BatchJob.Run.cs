using System.Diagnostics;
using Tessera.Batch.Results;
using Tessera.Batch.Scheduling;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;

namespace Tessera.Batch;

/// <summary>Running a job: the shards left, then the outputs assembled in record order with the manifest.</summary>
public sealed partial class BatchJob
{
    /// <summary>
    /// Runs the shards not yet written on <paramref name="deployment"/>, then assembles the outputs and writes the
    /// manifest; returns it. A failure leaves the shards written so far for a later <c>--resume</c>.
    /// </summary>
    /// <param name="workerCpuTimes">
    /// The CPU time each worker process has used so far, one per worker in a fixed order, when the caller started them
    /// (the manifest then holds their CPU seconds over the run); null when their processes are not this machine's.
    /// </param>
    public async Task<BatchManifest> RunAsync(Deployment deployment, Func<TimeSpan[]>? workerCpuTimes = null, CancellationToken cancellation = default)
    {
        if (Finished is not null) return Finished;
        var done = _journal!.Done;
        var queue = new ShardQueue([.. _shards.Where(s => !done.ContainsKey(s.Index))]);
        var lanes = new ShardLanes(deployment, _dataset, _store!, _journal, queue, BatchSize, Progress);
        if (!queue.IsEmpty) await WarmUpAsync(deployment, cancellation).ConfigureAwait(false);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var workersCpu = workerCpuTimes?.Invoke();
        Progress.Start();
        try
        {
            await lanes.RunAsync(cancellation).ConfigureAwait(false);
        }
        catch (ClusterException e)
        {
            throw new BatchException($"{e.Message}; {_journal.Done.Count} of {Shards} shards are written: run again with --resume to finish");
        }

        double? workersSeconds = workersCpu is null ? null : CpuSecondsSince(workersCpu, workerCpuTimes!());
        return await AssembleAsync(cpu, workersSeconds, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the dataset's first batch once on every placement and drops its outputs, before the run's clock and CPU
    /// count start: each process compiles (JIT) the code of a batch on its first one, the workers the model's kernels
    /// and the coordinator its read-send-receive path, and until the coordinator's first batch is out the workers wait
    /// (perf of ResNet-18 on 2 workers at load 12: 0.26 s of JIT in the coordinator and 0.21 s in each worker inside
    /// the run, whose first 0.45 s had both workers idle). That is start-up, paid once per process: once by a
    /// one-process run, once per worker here. It costs one batch per placement more compute, outside the run's count;
    /// its outputs are dropped, so records are still computed and written once, by the run.
    /// A warm-up that fails (a worker down, a record the model refuses) is left to the run, which fails over or reports
    /// it as it reports any batch's failure, with the shards written so far.
    /// </summary>
    private async Task WarmUpAsync(Deployment deployment, CancellationToken cancellation)
    {
        using var slice = await _dataset.ReadDeferredAsync(0, (int)Math.Min(BatchSize, _dataset.Records), cancellation).ConfigureAwait(false);
        Placement?[] placements = deployment.Placements.Count > 0 ? [.. deployment.Placements] : [null];
        try
        {
            await Task.WhenAll(placements.Select(p => deployment.RunOnAsync(p, slice.Tensors, cancellation))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
        }
    }

    /// <summary>The workers' CPU seconds between two readings; a worker restarted in between counts from its new start.</summary>
    private static double CpuSecondsSince(TimeSpan[] before, TimeSpan[] now) =>
        now.Select((t, i) => (i < before.Length && t >= before[i] ? t - before[i] : t).TotalSeconds).Sum();

    /// <summary>The outputs from every shard in record order (and the aggregates over them), then the manifest.</summary>
    /// <param name="cpu">This process's CPU time when the run started.</param>
    /// <param name="workersCpuSeconds">The workers' CPU seconds over the run, when known.</param>
    private async Task<BatchManifest> AssembleAsync(TimeSpan cpu, double? workersCpuSeconds, CancellationToken cancellation)
    {
        var done = _journal!.Done;
        var missing = _shards.FirstOrDefault(s => !done.ContainsKey(s.Index) || !_store!.Has(s.Index));
        if (missing != default) throw new InvalidOperationException($"shard {missing.Index} is not written");

        var outputs = Model.Graph.Outputs.Select(o => o.Name).ToArray();
        var aggregators = _request.Aggregate is { } kind ? outputs.ToDictionary(o => o, o => new RecordAggregator(kind, o), StringComparer.Ordinal) : null;
        var output = _layout.CreateOutput(_dataset.Records);
        await using (output.ConfigureAwait(false))
        {
            foreach (var shard in _shards)
            {
                var tensors = outputs.ToDictionary(o => o, o => _store!.Read(shard.Index, o), StringComparer.Ordinal);
                await output.AppendAsync(tensors, cancellation).ConfigureAwait(false);
                foreach (var (name, aggregator) in aggregators ?? []) aggregator.Add(tensors[name]);
            }

            var manifest = new BatchManifest(
                _dataset.Records,
                Shards,
                Key.ShardRows,
                _request.ModelPath,
                Key.ModelSha256,
                _dataset.Source,
                output.Outputs,
                WorkerWork.Total(done.Values.Select(e => e.Workers)),
                _journal.Started,
                DateTimeOffset.UtcNow,
                _journal.Runs,
                Progress.Elapsed.TotalSeconds,
                (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds,
                Process.GetCurrentProcess().PeakWorkingSet64,
                workersCpuSeconds,
                aggregators?.ToDictionary(kv => kv.Key, kv => kv.Value.Result(), StringComparer.Ordinal),
                Key);
            await output.CompleteAsync(manifest, cancellation).ConfigureAwait(false);
            _journal.Dispose();
            _layout.Clean(_store!);
            return manifest;
        }
    }
}
