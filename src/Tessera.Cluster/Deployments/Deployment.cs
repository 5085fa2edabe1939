using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// A model placed on stage backends (worker processes, or this process): the one owner of the split of a batch
/// between placements by their speed, of micro-batching a pipeline's share, of failover (a request whose placement
/// fails runs again on a live one: inference is idempotent), and of the join of the outputs — read straight into
/// their rows of the whole, or of the caller's own tensors. Every row passes through the same (sub-)models whatever
/// the split, so the outputs are those of one session, bit for bit (tensor-parallel stages: the in-process group's).
/// Safe for concurrent calls.
/// </summary>
public sealed partial class Deployment : IAsyncDisposable
{
    // Longest a request waiting for a placement goes without trying again.
    private static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(250);

    private readonly ILogger _logger;
    private volatile PlacementSet _set;
    private TaskCompletionSource _changed = NewSignal();

    public Deployment(string name, DeploymentModel model, PlacementSet placements, DeploymentOptions? options = null, ILogger? logger = null)
    {
        Name = name;
        Model = model;
        _set = placements;
        Options = options ?? new DeploymentOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    public string Name { get; }

    public DeploymentModel Model { get; }

    public DeploymentOptions Options { get; }

    /// <summary>The current placements (replicas); a snapshot that a re-placement replaces as a whole.</summary>
    public IReadOnlyList<Placement> Placements => _set.Placements;

    /// <summary>The plan the placements follow; null for whole-model replicas.</summary>
    public PlanDocument? Plan => _set.Plan;

    /// <summary>The folder of the plan's sub-models; null without a plan.</summary>
    public string? PlanDirectory => _set.PlanDirectory;

    /// <summary>
    /// Batches to keep in flight so that every stage of every placement has one and one more is on its way: the sum of
    /// the placements' stages that work at once, plus one (one more than the workers for whole-model replicas; S + 1
    /// for a pipeline of S stages, which is then full: <see cref="Partitioning.Pipeline.MicroBatchSchedule.IsFull"/>).
    /// Deeper bought no throughput: bench-cluster's 3-stage GPT pipeline on the 2-core VM at 4, 5, 6 and 8 in flight
    /// (6 alternated pairs, load 20-35) gave a median 190, 186, 178 and 172 rows/s and CPU per row 1.12, 1.14, 1.08 and
    /// 1.11x one process's, while the median batch took 166, 214, 259 and 370 ms: every batch more waits its turn.
    /// </summary>
    public int Window
    {
        get
        {
            int stages = 0;
            foreach (var p in Placements) stages += p.ConcurrentStages;
            return stages + 1;
        }
    }

    /// <summary>"STRATEGY, N stage(s), R replica(s) on PLACEMENT | ...", or the whole-model replicas.</summary>
    public string Describe() => _set.Plan is { } plan
        ? $"{plan.Strategy}, {plan.Stages.Count} stage(s), {plan.Stages[0].Replicas.Count} replica(s) on {_set}"
        : $"the whole model on {Placements.Count} worker(s): {_set}";

    /// <summary>
    /// Runs one batch: split between the placements that are up in proportion to their speed (measured, else the
    /// weight they were placed for), each share cut into micro-batches when its placement is a pipeline; whole on the
    /// least busy placement when another batch is in flight on any of them.
    /// </summary>
    /// <param name="into">
    /// Tensors (by output name) to receive the outputs, as <c>InferenceSession.Run(inputs, outputs)</c> takes them: the
    /// pieces are read straight into their rows, so a caller running batch after batch allocates nothing for them.
    /// </param>
    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation = default, IReadOnlyDictionary<string, Tensor>? into = null) =>
        RunAsync(inputs, cancellation, into, keepInRing: false, callerNeverBlocks: false);

    private Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation, IReadOnlyDictionary<string, Tensor>? into, bool keepInRing, bool callerNeverBlocks)
    {
        // Loops, not LINQ: this runs for every batch, on the coordinator's frame thread among others (issue 19).
        var all = Placements;
        // Each placement asked once: a worker coming up or going down between two asks must not change the count.
        Span<bool> isUp = all.Count <= 64 ? stackalloc bool[all.Count] : new bool[all.Count];
        int up = 0;
        for (int i = 0; i < all.Count; i++) if (isUp[i] = all[i].IsUp) up++;
        var shares = new Placement?[Math.Max(up, 1)];
        if (up > 0)
        {
            int at = 0;
            for (int i = 0; i < all.Count; i++) if (isUp[i]) shares[at++] = all[i];
        }
        else if (all.Count > 0)
        {
            shares = [.. all]; // none up: whichever comes up
        }

        if (shares.Length > 1 && AnyInFlight(shares))
        {
            // Other batches are in flight (callers keeping the placements loaded): a split would wait for the busiest
            // share and cost a request, a run of fewer rows and an answer to join per placement, on workers and
            // coordinator alike. It goes whole to the placement with the least work in flight; a batch alone is split.
            return RunSharesAsync([LeastBusy(shares)], [1.0], inputs, cancellation, into, null, keepInRing, callerNeverBlocks);
        }

        return RunSharesAsync(shares, Weights(shares), inputs, cancellation, into, null, keepInRing, callerNeverBlocks);
    }

    /// <summary>
    /// Runs one batch as <see cref="RunAsync(IReadOnlyDictionary{string, Tensor}, CancellationToken, IReadOnlyDictionary{string, Tensor}?)"/>
    /// does, but a batch that goes whole to one placement whose last worker shares this host leaves its outputs in the
    /// shared-memory ring they came through, with no copy into this process's memory, until the result is disposed
    /// (<see cref="DeploymentOutputs"/>). Outputs that cannot stay there (split batches, TCP, a narrowed wire, a ring
    /// already half held) go into <paramref name="into"/>'s tensors where given, else fresh ones.
    /// </summary>
    /// <param name="callerNeverBlocks">
    /// The caller's code after the await may run on the worker connection's receive loop that read the last answer, as
    /// the <c>answered</c> callback of <see cref="RunOnAsync"/> does, so it must not block until it first awaits (no
    /// synchronous waits, no long computation: the loop reads that worker's heartbeat answers too). It saves the hand-off
    /// to the thread pool, which woke two or three threads per batch (perf sched_waking, bench-cluster GPT data parallel).
    /// </param>
    public async Task<DeploymentOutputs> RunLeasedAsync(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation = default, IReadOnlyDictionary<string, Tensor>? into = null, bool callerNeverBlocks = false) =>
        new(await RunAsync(inputs, cancellation, into, keepInRing: true, callerNeverBlocks).ConfigureAwait(false));

    /// <summary>
    /// Runs one batch on <paramref name="preferred"/> (a scheduler's choice), micro-batched when it is a pipeline; a
    /// piece whose placement fails runs on another. A placement no longer current is only a preference.
    /// </summary>
    /// <param name="answered">
    /// Told which placement answered each piece and its rows (a piece may fail over); called where the answer arrived,
    /// possibly a worker connection's receive loop, so it must not block.
    /// </param>
    public Task<IReadOnlyDictionary<string, Tensor>> RunOnAsync(Placement? preferred, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation = default, IReadOnlyDictionary<string, Tensor>? into = null, Action<Placement, int>? answered = null) =>
        RunSharesAsync([preferred], [1.0], inputs, cancellation, into, answered, keepInRing: false);

    /// <summary>
    /// <see cref="RunOnAsync"/> with the outputs of a batch run whole by a worker on this host left in the shared-memory
    /// ring they came through until the result is disposed, as <see cref="RunLeasedAsync"/> leaves them.
    /// </summary>
    public async Task<DeploymentOutputs> RunOnLeasedAsync(Placement? preferred, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation = default, Action<Placement, int>? answered = null) =>
        new(await RunSharesAsync([preferred], [1.0], inputs, cancellation, null, answered, keepInRing: true).ConfigureAwait(false));

    /// <summary>Wakes requests waiting for a placement: a worker came back, or the placements changed.</summary>
    public void NotifyChanged() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    /// <param name="shares">The placements to split between; a null share goes to whichever placement is up.</param>
    /// <param name="keepInRing">Whether a batch run as one piece may leave its outputs in a shared-memory ring (<see cref="KeepInRing"/>).</param>
    /// <param name="callerNeverBlocks">Whether the caller may go on on a receive loop (see <see cref="RunLeasedAsync"/>).</param>
    private async Task<IReadOnlyDictionary<string, Tensor>> RunSharesAsync(Placement?[] shares, double[] weights, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellation, IReadOnlyDictionary<string, Tensor>? into, Action<Placement, int>? answered, bool keepInRing, bool callerNeverBlocks = false)
    {
        int rows = Model.Rows(inputs);
        if (rows == 0)
        {
            var whole = await RunPieceAsync(shares[0], inputs, 0, keepInRing ? KeepInRing.Around(null) : null, cancellation, answered).ConfigureAwait(false);
            if (!callerNeverBlocks) await LeaveReceiveLoopAsync().ConfigureAwait(false);
            var delivered = new Dictionary<string, Tensor>(Model.Outputs.Count, StringComparer.Ordinal);
            foreach (string o in Model.Outputs) delivered[o] = Deliver(o, whole[o], into);
            return delivered;
        }

        var traced = PipelineTrace.Start();
        foreach (var share in shares) share?.BatchBegun();
        BatchPieces pieces;
        IReadOnlyDictionary<string, Tensor>[] results;
        try
        {
            pieces = BatchPieces.Cut(rows, shares, weights, Options, Model.Outputs, Model.LeadingOutputs, into, out int[] shareOf);
            var inputAxes = Model.InputAxes!;
            var tasks = new Task<IReadOnlyDictionary<string, Tensor>>[pieces.Count];
            for (int p = 0; p < tasks.Length; p++)
            {
                // Pieces are joined by reading them into their rows (a copy either way): only a whole batch stays in the ring.
                var place = keepInRing && tasks.Length == 1 ? KeepInRing.Around(pieces.For(p)) : pieces.For(p);
                tasks[p] = RunPieceAsync(shares[shareOf[p]], pieces.Slice(inputs, p, inputAxes), pieces.Rows(p), place, cancellation, answered);
            }

            results = await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            foreach (var share in shares) share?.BatchEnded();
        }

        if (!callerNeverBlocks) await LeaveReceiveLoopAsync().ConfigureAwait(false);
        var joining = PipelineTrace.Start();
        var outputAxes = Model.OutputAxes!;
        var outputs = Model.Outputs;
        var joined = new Dictionary<string, Tensor>(outputs.Count, StringComparer.Ordinal);
        for (int o = 0; o < outputs.Count; o++)
        {
            string name = outputs[o];
            var parts = new Tensor[results.Length];
            for (int r = 0; r < parts.Length; r++) parts[r] = results[r][name];
            joined[name] = Deliver(name, pieces.Join(o, parts, outputAxes[name]), into);
        }

        PipelineTrace.End(PipelineTrace.Kind.Join, joining, 0, pieces.Count, rows);
        PipelineTrace.End(PipelineTrace.Kind.Batch, traced, 0, pieces.Count, rows);
        return joined;
    }

    /// <summary>An output as the caller receives it: one left in a ring stays there (copying it would undo keeping it).</summary>
    private static Tensor Deliver(string name, Tensor joined, IReadOnlyDictionary<string, Tensor>? into) =>
        joined.StorageOwner is RingLease ? joined : BatchPieces.Deliver(name, joined, into);

    /// <summary>
    /// One piece, on <paramref name="preferred"/> when it is up, else on the live placement with the least work; when
    /// its placement fails (a worker down, a stage unreachable) on the next; with none left, after waiting up to
    /// <see cref="DeploymentOptions.PlacementWait"/> for one to come up, it fails with every reason.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, Tensor>> RunPieceAsync(Placement? preferred, IReadOnlyDictionary<string, Tensor> inputs, int rows, OutputPlacement? place, CancellationToken cancellation, Action<Placement, int>? answered)
    {
        using var span = ClusterTelemetry.Source.StartActivity("piece");
        span?.SetTag("tessera.deployment", Name);
        span?.SetTag("tessera.rows", rows);
        HashSet<Placement>? tried = null; // made on a first failure: most pieces never fail
        List<string>? reasons = null;
        long deadline = Stopwatch.GetTimestamp() + (long)(Options.PlacementWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task; // taken first, so a change after the choice below is not missed
            var placement = Choose(preferred, tried);
            if (placement is null)
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left > TimeSpan.Zero)
                {
                    // Until a change (a worker back, new placements), or briefly: a placement whose workers stayed up
                    // can fail once for a reason that passes (a stage's stale link to a restarted next stage).
                    await WaitAsync(changed, left < RetryAfter ? left : RetryAfter, cancellation).ConfigureAwait(false);
                    tried?.Clear();
                    continue;
                }

                var failure = new ClusterException(ClusterErrorCode.WorkerDown, $"no placement could run the request ({Why(reasons ?? [])})");
                span?.SetStatus(ActivityStatusCode.Error, failure.Message);
                throw failure;
            }

            try
            {
                var outputs = await placement.RunAsync(inputs, rows, place, cancellation).ConfigureAwait(false);
                answered?.Invoke(placement, rows);
                span?.SetTag("tessera.placement", placement.ToString());
                return outputs;
            }
            catch (ClusterException e) when (e.Code is ClusterErrorCode.WorkerDown or ClusterErrorCode.RouteFailed)
            {
                span?.AddEvent(new ActivityEvent("failover", tags: new ActivityTagsCollection { ["tessera.placement"] = placement.ToString(), ["tessera.reason"] = e.Message }));
                (tried ??= []).Add(placement);
                (reasons ??= []).Add(e.Message);
                DeploymentLog.FailingOver(_logger, Name, placement.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// Moves to the thread pool when the pieces' last answer completed on a worker connection's receive loop (see
    /// <see cref="PendingRequests"/>), so that the caller's continuation cannot hold it: one hand-off per batch instead
    /// of one per micro-batch.
    /// </summary>
    private static async ValueTask LeaveReceiveLoopAsync()
    {
        if (PendingRequests.Answering)
        {
            await Task.Yield();
        }
    }

    private string Why(List<string> reasons)
    {
        if (reasons.Count > 0) return string.Join("; ", reasons.Distinct(StringComparer.Ordinal));
        var down = Placements.SelectMany(p => p.Workers).Where(w => !w.IsUp).Distinct().Select(w => $"worker {w.Name} at {w.Address} {w.DownReason}").ToArray();
        return down.Length > 0 ? string.Join("; ", down) : "the deployment has no placement";
    }

    private static async Task WaitAsync(Task changed, TimeSpan timeout, CancellationToken cancellation)
    {
        try
        {
            await changed.WaitAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // no change: try again all the same
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await StopWatchingAsync().ConfigureAwait(false);
        NotifyChanged();
        _set.Dispose();
    }
}
