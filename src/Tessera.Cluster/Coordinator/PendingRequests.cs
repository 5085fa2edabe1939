using System.Collections.Concurrent;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// Requests awaiting an answer, by request id. An answer may come from any worker (a pipeline's result arrives from
/// its last stage), so the map is shared by all of a coordinator's connections; each entry remembers the workers
/// it depends on, so that a worker going down fails exactly the requests that needed it.
/// </summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<ulong, Entry> _entries = new();
    private long _nextId;

    /// <param name="placeOutput">Where the answer's tensors go (null: fresh tensors); see <see cref="OutputPlacement"/>.</param>
    public (ulong Id, Task<Reply> Answer) Register(IReadOnlyCollection<WorkerClient> involved, OutputPlacement? placeOutput = null)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextId);
        var entry = new Entry(new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously), involved, placeOutput);
        _entries[id] = entry;
        return (id, entry.Completion.Task);
    }

    /// <summary>A second answer expected under an id already used (an upload's end after its begin).</summary>
    public Task<Reply> RegisterWithId(ulong id, IReadOnlyCollection<WorkerClient> involved)
    {
        var entry = new Entry(new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously), involved, null);
        _entries[id] = entry;
        return entry.Completion.Task;
    }

    public void Forget(ulong id) => _entries.TryRemove(id, out _);

    /// <summary>The placement of a pending request's output tensors, or null (fresh tensors, or no such request).</summary>
    public OutputPlacement? PlacementOf(ulong id) => _entries.TryGetValue(id, out var e) ? e.PlaceOutput : null;

    public bool Complete(ulong id, Reply reply) => _entries.TryRemove(id, out var e) && e.Completion.TrySetResult(reply);

    public bool Fail(ulong id, Exception error) => _entries.TryRemove(id, out var e) && e.Completion.TrySetException(error);

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
