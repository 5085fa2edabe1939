using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Backends;
using Tessera.Serving.Metrics;
using Tessera.Tensors;

namespace Tessera.Serving.Scheduling;

/// <summary>
/// The queue of one model version and the dispatcher thread that turns it into batches on replicas. Requests wait
/// in one FIFO per priority level; a batch is the longest run of compatible requests from the front (highest level
/// first) that fits <see cref="SchedulerOptions.MaxBatchSize"/>. It leaves when it is full, when a preferred size
/// can be formed, when the next request cannot join it, or when the oldest request has waited the maximum delay —
/// and only when the policy finds a replica with room, so requests keep joining while every replica is busy.
/// </summary>
internal sealed partial class ModelScheduler : IDisposable
{
    private readonly object _gate = new();
    private readonly IInferenceBackend _backend;
    private readonly IReplicaPolicy _policy;
    private ReplicaState[] _replicas;
    private int _generation;
    private readonly Queue<PendingRequest>[] _levels;
    private readonly ModelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread _dispatcher;
    private readonly long _delayTicks;
    private readonly string _name;

    // Requests in state Queued, per level (abandoned ones may still sit in the queues until the dispatcher passes them).
    private readonly int[] _queued;
    private int _queuedTotal;
    private bool _stopping;

    public ModelScheduler(string name, IInferenceBackend backend, SchedulerOptions options, ModelMetrics metrics, ILogger logger)
    {
        options.Validate();
        _name = name;
        _backend = backend;
        Options = options;
        _metrics = metrics;
        _logger = logger;
        _policy = IReplicaPolicy.Create(options.Policy);
        _generation = backend.Generation;
        _replicas = NewReplicas(backend);
        _levels = Enumerable.Range(0, options.PriorityLevels).Select(_ => new Queue<PendingRequest>()).ToArray();
        _queued = new int[options.PriorityLevels];
        _delayTicks = options.MaxQueueDelayMicroseconds * Stopwatch.Frequency / 1_000_000;
        _dispatcher = new Thread(DispatchLoop) { IsBackground = true, Name = $"tessera {name} dispatcher" };
        _dispatcher.Start();
    }

    public SchedulerOptions Options { get; }

    public bool Batching => Options.MaxBatchSize > 0;

    /// <summary>Rows a request adds to a batch: the shared size of every input's first dimension (1 without batching); 400 when they disagree or exceed the maximum.</summary>
    public int RowsOf(IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (!Batching)
        {
            return 1;
        }

        int rows = -1;
        foreach (var (name, tensor) in inputs)
        {
            if (tensor.Rank == 0 || (rows >= 0 && tensor.Shape[0] != rows))
            {
                throw Protocol.ServingException.BadRequest($"input '{name}' has shape {ShapeMath.Format(tensor.Shape)}, but other inputs have {rows} rows on the first (batch) axis");
            }

            rows = tensor.Shape[0];
        }

        if (rows > Options.MaxBatchSize)
        {
            throw Protocol.ServingException.BadRequest($"the request's batch of {rows} rows exceeds the model's max_batch_size of {Options.MaxBatchSize}");
        }

        return rows;
    }

    /// <summary>True once the scheduler has stopped taking requests (its model is no longer served).</summary>
    public bool Stopped
    {
        get
        {
            lock (_gate)
            {
                return _stopping;
            }
        }
    }

    /// <summary>Queues a request; false when the queue is full or the scheduler has stopped (the caller answers 503).</summary>
    public bool TryEnqueue(PendingRequest request)
    {
        lock (_gate)
        {
            if (_queuedTotal >= Options.MaxQueueSize || _stopping)
            {
                return false;
            }

            _levels[request.Level].Enqueue(request);
            _queued[request.Level]++;
            _queuedTotal++;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Takes a request out of the queue if it has not been dispatched yet; true when it will never run.</summary>
    public bool TryAbandon(PendingRequest request)
    {
        lock (_gate)
        {
            if (request.State != PendingState.Queued)
            {
                return false;
            }

            request.State = PendingState.Abandoned;
            _queued[request.Level]--;
            _queuedTotal--;
            return true;
        }
    }

    /// <summary>A consistent copy of the gauges for /metrics.</summary>
    public SchedulerSnapshot Snapshot()
    {
        lock (_gate)
        {
            RefreshReplicasUnsynchronized();
            var replicas = _replicas.Select(r => new ReplicaSnapshot(
                r.Index, r.InflightBatches, r.InflightRows, _backend.Waiting(r.Index), r.RowsPerSecond, r.Batches, r.Rows)).ToArray();
            return new SchedulerSnapshot((int[])_queued.Clone(), replicas);
        }
    }

    /// <summary>
    /// Lets every queued request run and every batch in flight finish, then stops (as <see cref="Dispose"/>): how a
    /// model that is no longer served ends without losing what it accepted. Requests that still arrive meanwhile
    /// are run too. After <paramref name="limit"/> it stops regardless, answering what is still queued with 503;
    /// false then.
    /// </summary>
    public bool Drain(TimeSpan limit)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        bool idle;
        lock (_gate)
        {
            while (!(idle = _queuedTotal == 0 && _replicas.All(r => r.InflightBatches == 0)))
            {
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    break;
                }

                // Abandoned requests leave the count without a pulse: look again at least every 50 ms.
                Monitor.Wait(_gate, (int)Math.Clamp(left * 1000 / Stopwatch.Frequency, 1, 50));
            }
        }

        Dispose();
        return idle;
    }

    public void Dispose()
    {
        List<PendingRequest> left = [];
        lock (_gate)
        {
            _stopping = true;
            foreach (var level in _levels)
            {
                left.AddRange(level.Where(r => r.State == PendingState.Queued));
                level.Clear();
            }

            Monitor.PulseAll(_gate);
        }

        foreach (var r in left)
        {
            r.Completion.TrySetException(new Protocol.ServingException(503, "the server is shutting down"));
        }

        _dispatcher.Join(TimeSpan.FromSeconds(10));
    }

    private void DispatchLoop()
    {
        var batch = new List<PendingRequest>();
        while (NextBatch(batch) is { } work)
        {
            // Started here, outside the lock: merging and handing the batch to the replica take microseconds, and
            // the rest runs as the replica's continuation, so no thread-pool hop sits on the request path.
            _ = RunBatchAsync(work);
        }
    }

    /// <summary>Waits until a batch can leave and a replica can take it; null when the scheduler stops.</summary>
    private BatchWork? NextBatch(List<PendingRequest> batch)
    {
        lock (_gate)
        {
            while (!_stopping)
            {
                RefreshReplicasUnsynchronized();
                if (_queuedTotal == 0 || !_replicas.Any(r => r.InflightBatches < Options.MaxInflightPerReplica))
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                int count = PlanBatchUnsynchronized(out int rows, out long waitTicks);
                if (count == 0)
                {
                    // Round up: the wait must not end before the delay has passed, or the loop would spin.
                    long ms = Math.Max(1, (waitTicks * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
                    Monitor.Wait(_gate, (int)Math.Min(ms, int.MaxValue));
                    continue;
                }

                int replica = _policy.Choose(_replicas, rows, Options.MaxInflightPerReplica);
                if (replica < 0)
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                TakeUnsynchronized(count, batch);
                _replicas[replica].Dispatched(rows);
                var work = new BatchWork(_replicas[replica], batch.ToArray(), rows);
                batch.Clear();
                return work;
            }

            return null;
        }
    }

    /// <summary>
    /// New replica states when the backend's replicas were replaced (a cluster deployment placed again); batches still
    /// running finish on the states they were dispatched to. Caller holds the lock.
    /// </summary>
    private void RefreshReplicasUnsynchronized()
    {
        int generation = _backend.Generation;
        if (generation == _generation) return;
        _generation = generation;
        _replicas = NewReplicas(_backend);
    }

    private static ReplicaState[] NewReplicas(IInferenceBackend backend) =>
        [.. Enumerable.Range(0, backend.ReplicaCount).Select(i => new ReplicaState(i, backend.DeclaredSpeed(i), backend.WorkerLoads(i)))];

    private void Finish(ReplicaState state, int rows, double seconds, bool measured)
    {
        lock (_gate)
        {
            state.Finished(rows);
            if (measured)
            {
                state.Record(rows, seconds);
            }

            Monitor.PulseAll(_gate);
        }
    }

    private sealed record BatchWork(ReplicaState Replica, PendingRequest[] Requests, int Rows);
}
