using System.Diagnostics;
using Tessera.Batch.Datasets;
using Tessera.Batch.Results;
using Tessera.Cluster.Deployments;
using Tessera.Tensors;

namespace Tessera.Batch.Scheduling;

/// <summary>
/// Runs the pending shards on a deployment: each placement (a worker, or a pipeline of them) gets two lanes that
/// pull the next shard as soon as they are free, so a faster worker pulls more, and one lane's batch is on the
/// worker while the other's travels (until as many shards are left as placements, then one lane each). A shard is read in batches of <c>batchSize</c> records, each run on the lane's
/// placement through <see cref="Deployment.RunOnLeasedAsync"/> (whose failover runs a batch whose worker died on a live
/// one), appended to the shard's result, and the shard recorded in the journal once its result is on disk. Lanes
/// follow re-placements: a placement no longer current takes no new shard, a new one gets lanes.
/// </summary>
internal sealed class ShardLanes(Deployment deployment, IDataset dataset, ShardStore store, BatchJournal journal, ShardQueue queue, int batchSize, BatchProgress progress)
{
    private const int LanesPerPlacement = 2;
    private static readonly TimeSpan Look = TimeSpan.FromMilliseconds(250);
    private static readonly object NoPlacement = new();

    // When each worker last answered: the busy time of a batch starts at its sending or at that answer, whichever is
    // later, so the batches queued on a worker are not counted twice.
    private readonly Dictionary<string, long> _lastAnswer = new(StringComparer.Ordinal);

    public async Task RunAsync(CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var lanes = new Dictionary<object, Task[]>();
        while (true)
        {
            var current = deployment.Placements;
            foreach (var placement in current.Count > 0 ? current.Cast<Placement?>() : [null])
            {
                object key = placement ?? NoPlacement;
                if (!lanes.ContainsKey(key))
                {
                    lanes[key] = [.. Enumerable.Range(0, LanesPerPlacement).Select(lane => Task.Run(() => LaneAsync(placement, lane, stop.Token), CancellationToken.None))];
                }
            }

            var running = lanes.Values.SelectMany(t => t).ToArray();
            if (running.FirstOrDefault(t => t.IsFaulted || t.IsCanceled) is { } failed)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                await failed.ConfigureAwait(false); // throws its exception
            }

            if (queue.IsEmpty && running.All(t => t.IsCompleted)) return;
            var waiting = running.Where(t => !t.IsCompleted).ToArray();
            await Task.WhenAny(waiting.Length > 0 ? Task.WhenAny(waiting) : Task.CompletedTask, Task.Delay(Look, cancellation)).ConfigureAwait(false);
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <param name="lane">
    /// A placement's first lane pulls while shards are left; the others only while more are left than there are
    /// placements, so that the last shards (or a job of one shard per worker) go one to each placement.
    /// </param>
    private async Task LaneAsync(Placement? placement, int lane, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested && IsCurrent(placement) && (lane == 0 || queue.Remaining > deployment.Placements.Count) && queue.TryTake(out var shard))
        {
            await RunShardAsync(shard, placement, cancellation).ConfigureAwait(false);
        }
    }

    private bool IsCurrent(Placement? placement) => placement is null ? deployment.Placements.Count == 0 : deployment.Placements.Contains(placement);

    private async Task RunShardAsync(Shard shard, Placement? placement, CancellationToken cancellation)
    {
        var work = new Dictionary<string, WorkerWork>(StringComparer.Ordinal);
        using (var writer = store.Begin(shard.Index, shard.Records))
        {
            long end = shard.First + shard.Records;
            for (long at = shard.First; at < end; at += batchSize)
            {
                int records = (int)Math.Min(batchSize, end - at);
                using var slice = await dataset.ReadDeferredAsync(at, records, cancellation).ConfigureAwait(false);
                long sent = Stopwatch.GetTimestamp();
                // A model without batch axes (outputs that declare no shape) goes whole to one placement: 0 rows.
                // Outputs from a worker on this host are read where they arrived, in its ring, and given back once written.
                using var outputs = await deployment.RunOnLeasedAsync(placement, slice.Tensors, cancellation, answered: (p, rows) => Answered(p, rows == 0 ? records : rows, sent, work)).ConfigureAwait(false);
                CheckRecords(outputs, records);
                writer.Append(outputs); // before the slice is unmapped: an output may be an input passed through
            }

            writer.Commit();
        }

        journal.Append(new ShardEntry(shard.Index, shard.Records, work));
    }

    private void Answered(Placement placement, int rows, long sent, Dictionary<string, WorkerWork> work)
    {
        string name = placement.ToString();
        long now = Stopwatch.GetTimestamp();
        double seconds;
        lock (_lastAnswer)
        {
            seconds = Stopwatch.GetElapsedTime(Math.Max(sent, _lastAnswer.GetValueOrDefault(name)), now).TotalSeconds;
            _lastAnswer[name] = now;
        }

        var done = new WorkerWork(rows, seconds);
        lock (work) work[name] = work.TryGetValue(name, out var had) ? had.Plus(done) : done;
        progress.Answered(name, rows, seconds);
    }

    private static void CheckRecords(IReadOnlyDictionary<string, Tensor> outputs, int records)
    {
        foreach (var (name, tensor) in outputs)
        {
            if (tensor.Rank == 0 || tensor.Shape[0] != records)
            {
                throw new BatchException($"output '{name}' is {tensor} for a batch of {records} records: batch needs every output to have one row per record on axis 0");
            }
        }
    }
}
