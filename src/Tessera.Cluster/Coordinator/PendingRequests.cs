using System.Collections.Concurrent;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// Requests awaiting an answer, by request id. An answer may come from any worker (a pipeline's result arrives from
/// its last stage), so the map is shared by all of a coordinator's connections; each entry remembers the workers
/// it depends on, so that a worker going down fails exactly the requests that needed it.
/// An answer completes its request on the receive loop that read it, which runs the waiting caller's continuation
/// itself (the deployment's join, the next request's send) until that first waits: handing it to the thread pool cost
/// a futex wake and a context switch or more per answer, on a coordinator whose cores its workers share. A failure is
/// handed to the pool: it can come from a worker being marked down, whose callers must not fail over inside that.
/// </summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<ulong, Entry> _entries = new();
    private long _nextId;

    /// <param name="placeOutput">Where the answer's tensors go (null: fresh tensors); see <see cref="OutputPlacement"/>.</param>
    public (ulong Id, Task<Reply> Answer) Register(IReadOnlyCollection<WorkerClient> involved, OutputPlacement? placeOutput = null)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        var entry = new Entry(new TaskCompletionSource<Reply>(), involved, placeOutput);
        _entries[id] = entry;
        return (id, entry.Completion.Task);
    }

    /// <summary>A second answer expected under an id already used (an upload's end after its begin).</summary>
    public Task<Reply> RegisterWithId(ulong id, IReadOnlyCollection<WorkerClient> involved)
    {
        var entry = new Entry(new TaskCompletionSource<Reply>(), involved, null);
        _entries[id] = entry;
        return entry.Completion.Task;
    }

    public void Forget(ulong id) => _entries.TryRemove(id, out _);

    /// <summary>The placement of a pending request's output tensors, or null (fresh tensors, or no such request).</summary>
    public OutputPlacement? PlacementOf(ulong id) => _entries.TryGetValue(id, out var e) ? e.PlaceOutput : null;

    public bool Complete(ulong id, Reply reply) => _entries.TryRemove(id, out var e) && e.Completion.TrySetResult(reply);

    public void Fail(ulong id, Exception error)
    {
        if (_entries.TryRemove(id, out var e))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static f => f.Completion.TrySetException(f.Error), (e.Completion, Error: error), preferLocal: false);
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

    private sealed record Entry(TaskCompletionSource<Reply> Completion, IReadOnlyCollection<WorkerClient> Involved, OutputPlacement? PlaceOutput);
}
