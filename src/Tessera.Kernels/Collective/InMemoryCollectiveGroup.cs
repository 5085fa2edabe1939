using System.Diagnostics;

namespace Tessera.Kernels.Collective;

/// <summary>
/// The communicators of <see cref="Size"/> ranks that run in one process (one thread each), exchanging blocks
/// through shared memory at a barrier. A rank that does not reach a collective within <see cref="Timeout"/> makes
/// the collective fail on every waiting rank with a <see cref="CollectiveException"/> naming the missing ranks;
/// the group then stays aborted (every collective fails at once) until <see cref="Reset"/>.
/// </summary>
public sealed class InMemoryCollectiveGroup
{
    private readonly object _gate = new();
    private readonly InMemoryCommunicator[] _communicators;

    // The current collective: what each rank published (key, address and length of its block) and who has arrived.
    private readonly string?[] _keys;
    private readonly nint[] _blocks;
    private readonly int[] _lengths;
    private readonly bool[] _arrived;
    private int _arrivedCount;
    private long _generation;
    private string? _abortReason;

    public InMemoryCollectiveGroup(int size, TimeSpan? timeout = null)
    {
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a collective group needs at least one rank");
        }

        Timeout = timeout ?? TimeSpan.FromSeconds(60);
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the collective timeout must be positive");
        }

        Size = size;
        _keys = new string?[size];
        _blocks = new nint[size];
        _lengths = new int[size];
        _arrived = new bool[size];
        _communicators = Enumerable.Range(0, size).Select(r => new InMemoryCommunicator(this, r)).ToArray();
    }

    public int Size { get; }

    /// <summary>How long a rank waits at a collective for the others before the collective fails.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The communicator of each rank, index = rank.</summary>
    public IReadOnlyList<ICollectiveCommunicator> Communicators => _communicators;

    public bool IsAborted
    {
        get
        {
            lock (_gate)
            {
                return _abortReason is not null;
            }
        }
    }

    /// <summary>Makes every waiting and every later collective fail with <paramref name="reason"/> (e.g. a rank failed and will not come).</summary>
    public void Abort(string reason)
    {
        lock (_gate)
        {
            _abortReason ??= reason;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Clears an abort and any half-finished collective. Call only when no rank is inside a collective.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _abortReason = null;
            _arrivedCount = 0;
            Array.Clear(_arrived);
            Array.Clear(_keys);
            Array.Clear(_blocks);
            Array.Clear(_lengths);
            _generation++;
        }
    }

    /// <summary>Publishes this rank's block and waits until every rank has published one for the same key and length.</summary>
    internal void Publish(int rank, string key, nint block, int length)
    {
        lock (_gate)
        {
            ThrowIfAborted(rank, key);
            _keys[rank] = key;
            _blocks[rank] = block;
            _lengths[rank] = length;
        }

        Barrier(rank, key);
        for (int r = 0; r < Size; r++)
        {
            if (_keys[r] != key || _lengths[r] != length)
            {
                string what = string.Join(", ", Enumerable.Range(0, Size).Select(i => $"rank {i} at '{_keys[i]}' with {_lengths[i]} bytes"));
                string reason = $"collective ranks disagree: {what}";
                Abort(reason);
                throw new CollectiveException(reason);
            }
        }
    }

    /// <summary>The block rank <paramref name="rank"/> published for the current collective (valid until the closing barrier).</summary>
    internal nint BlockOf(int rank) => _blocks[rank];

    /// <summary>Waits until every rank has arrived (generation barrier), the timeout expires, or the group is aborted.</summary>
    internal void Barrier(int rank, string key)
    {
        lock (_gate)
        {
            ThrowIfAborted(rank, key);
            long generation = _generation;
            _arrived[rank] = true;
            if (++_arrivedCount == Size)
            {
                _arrivedCount = 0;
                Array.Clear(_arrived);
                _generation++;
                Monitor.PulseAll(_gate);
                return;
            }

            long deadline = Stopwatch.GetTimestamp() + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
            while (_generation == generation)
            {
                ThrowIfAborted(rank, key);
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    var missing = Enumerable.Range(0, Size).Where(r => !_arrived[r]).ToArray();
                    string ranks = missing.Length == 1 ? $"rank {missing[0]}" : $"ranks {string.Join(", ", missing)}";
                    _abortReason = $"collective '{key}': {ranks} of {Size} did not arrive within {Timeout.TotalSeconds:0.###} s";
                    Monitor.PulseAll(_gate);
                    throw new CollectiveException(_abortReason);
                }

                Monitor.Wait(_gate, TimeSpan.FromSeconds(Math.Min((double)remaining / Stopwatch.Frequency, 1.0)));
            }
        }
    }

    private void ThrowIfAborted(int rank, string key)
    {
        if (_abortReason is not null)
        {
            throw new CollectiveException(_abortReason.StartsWith("collective ", StringComparison.Ordinal)
                ? _abortReason
                : $"collective '{key}' on rank {rank}: group aborted: {_abortReason}");
        }
    }
}
