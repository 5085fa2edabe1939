using System.Collections.Concurrent;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// Requests awaiting an answer, by request id. An answer may come from any worker (a pipeline's result arrives from
/// its last stage), so the map is shared by all of a coordinator's connections; each entry remembers the workers
/// it depends on, so that a worker going down fails exactly the requests that needed it.
/// A request registered to be answered inline is completed on the receive loop that read its answer, which runs the
/// waiting continuation itself (the deployment's join, the next micro-batch's send) until that first waits: handing
/// it to the thread pool cost a futex wake and a context switch or more per answer, on a coordinator whose cores its
/// workers share. Only this library's own callers register so, and they hand off to the pool before any caller's code
/// runs when <see cref="Answering"/> (a caller's continuation could block the loop, and the worker would look silent).
/// Other answers, and every failure (it can come from a worker being marked down, whose requests must not fail over
/// inside that), complete through the pool.
/// A request not answered within the timeout fails with <see cref="ClusterErrorCode.Timeout"/>: each entry carries its
/// deadline and one timer looks for expired ones a few times per timeout (at most once a second), rather than a timer
/// per request (<c>Task.WaitAsync</c> with a timeout creates one, queues it under the timer queue's lock and removes
/// it again, plus a task to wait on, for every request of a coordinator that sends thousands a second).
/// </summary>
internal sealed class PendingRequests : IDisposable
{
    [ThreadStatic]
    private static bool t_answering;

    private readonly ConcurrentDictionary<ulong, Entry> _entries = new();
    private readonly TimeSpan _timeout;
    private readonly Timer _expiry;
    private long _nextId;

    public PendingRequests(TimeSpan timeout)
    {
        _timeout = timeout;
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 8, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        // The timer holds this only weakly, so a coordinator nobody disposed does not keep it (and it) alive.
        _expiry = new Timer(static self => (((WeakReference<PendingRequests>)self!).TryGetTarget(out var p) ? p : null)?.FailExpired(),
            new WeakReference<PendingRequests>(this), period, period);
    }

    /// <summary>True on a receive loop while it runs an inline answer's continuation.</summary>
    public static bool Answering => t_answering;

    /// <param name="placeOutput">Where the answer's tensors go (null: fresh tensors); see <see cref="OutputPlacement"/>.</param>
    /// <param name="inline">Whether the answer's continuation runs on the receive loop (see the class).</param>
    public (ulong Id, Task<Reply> Answer) Register(IReadOnlyCollection<WorkerClient> involved, OutputPlacement? placeOutput = null, bool inline = false)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        var entry = new Entry(new TaskCompletionSource<Reply>(inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously), involved, placeOutput, Deadline());
        _entries[id] = entry;
        return (id, entry.Completion.Task);
    }

    /// <summary>A second answer expected under an id already used (an upload's end after its begin).</summary>
    public Task<Reply> RegisterWithId(ulong id, IReadOnlyCollection<WorkerClient> involved)
    {
        var entry = new Entry(new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously), involved, null, Deadline());
        _entries[id] = entry;
        return entry.Completion.Task;
    }

    public void Forget(ulong id) => _entries.TryRemove(id, out _);

    /// <summary>The placement of a pending request's output tensors, or null (fresh tensors, or no such request).</summary>
    public OutputPlacement? PlacementOf(ulong id) => _entries.TryGetValue(id, out var e) ? e.PlaceOutput : null;

    public bool Complete(ulong id, Reply reply)
    {
        if (!_entries.TryRemove(id, out var e)) return false;
        t_answering = true;
        try
        {
            return e.Completion.TrySetResult(reply);
        }
        finally
        {
            t_answering = false;
        }
    }

    public void Fail(ulong id, Exception error)
    {
        if (_entries.TryRemove(id, out var e))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static f => f.Completion.TrySetException(f.Error), (e.Completion, Error: error), preferLocal: false);
        }
    }

    /// <summary>Cancels a pending request (its caller's cancellation), through the pool as a failure is.</summary>
    public void Cancel(ulong id, CancellationToken cancellation)
    {
        if (_entries.TryRemove(id, out var e))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.Completion.TrySetCanceled(c.Cancellation), (e.Completion, Cancellation: cancellation), preferLocal: false);
        }
    }

    /// <summary>Fails every request that involves <paramref name="worker"/>.</summary>
    public void FailInvolving(WorkerClient worker, string reason)
    {
        foreach (var (id, entry) in _entries)
        {
            if (entry.Involved.Contains(worker))
            {
                Fail(id, new ClusterException(ClusterErrorCode.WorkerDown, reason));
            }
        }
    }

    public void Dispose() => _expiry.Dispose();

    private long Deadline() => Environment.TickCount64 + (long)_timeout.TotalMilliseconds;

    private void FailExpired()
    {
        long now = Environment.TickCount64;
        foreach (var (id, entry) in _entries)
        {
            if (now >= entry.Deadline)
            {
                Fail(id, new ClusterException(ClusterErrorCode.Timeout, $"no answer within {_timeout.TotalSeconds:0.#} s"));
            }
        }
    }

    private sealed record Entry(TaskCompletionSource<Reply> Completion, IReadOnlyCollection<WorkerClient> Involved, OutputPlacement? PlaceOutput, long Deadline);
}
