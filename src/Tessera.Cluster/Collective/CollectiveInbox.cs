using System.Buffers;
using System.Diagnostics;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport;
using Tessera.Kernels.Collective;
using Tessera.Tensors;

namespace Tessera.Cluster.Collective;

/// <summary>
/// Blocks other ranks sent to this worker, by (group run, key, sender rank), until the rank's model thread takes
/// them; and the runs that were aborted (a peer gave up, or the link to a peer closed). A peer may run ahead, so a
/// block can arrive before this rank reaches the collective; it waits here in the pooled array the frame reader
/// filled. Runs that ended are remembered for a while so late blocks of a failed run are dropped, not kept.
/// </summary>
internal sealed class CollectiveInbox
{
    private const int RememberedEndedRuns = 4096;

    // All fields are guarded by _gate; waiters sleep on it with Monitor.Wait and arrivals pulse it.
    private readonly object _gate = new();
    private readonly Dictionary<(GroupRunId Run, string Key, int Rank), (byte[] Block, int Length, WireDataType Wire)> _blocks = [];
    private readonly Dictionary<GroupRunId, (string Why, bool Unreachable)> _aborted = [];
    private readonly Dictionary<GroupRunId, string[]> _active = [];
    private readonly HashSet<GroupRunId> _ended = [];
    private readonly Queue<GroupRunId> _endedOrder = new();

    /// <summary>Takes ownership of <paramref name="block"/> (a pooled array) for a block message.</summary>
    public void Deliver(ulong requestId, CollectiveMessage message, byte[]? block, int length)
    {
        var run = new GroupRunId(message.ReplyTo, requestId, message.Stage);
        lock (_gate)
        {
            if (_ended.Contains(run))
            {
                Return(block);
                return;
            }

            if (message.Kind == CollectiveKind.Abort)
            {
                _aborted.TryAdd(run, ($"rank {message.SenderRank} gave up: {message.Reason}", false));
            }
            else if (block is null || !_blocks.TryAdd((run, message.Key, message.SenderRank), (block, length, message.Wire)))
            {
                // A second block for the same key from the same rank: the first one stands.
                Return(block);
                return;
            }

            Monitor.PulseAll(_gate);
        }
    }

    public void Begin(GroupRun run)
    {
        lock (_gate)
        {
            _active[run.Id] = run.Addresses;
        }
    }

    /// <summary>
    /// Copies rank <paramref name="rank"/>'s block for <paramref name="key"/> into <paramref name="destination"/>
    /// (widening a narrowed block's float32 elements), waiting until <paramref name="deadline"/> (a
    /// <see cref="Stopwatch"/> timestamp) at most.
    /// </summary>
    public void Take(GroupRun run, string key, int rank, Span<byte> destination, long deadline, TimeSpan timeout)
    {
        (byte[] Block, int Length, WireDataType Wire) arrived;
        lock (_gate)
        {
            while (!_blocks.Remove((run.Id, key, rank), out arrived))
            {
                if (_aborted.TryGetValue(run.Id, out var abort))
                {
                    string why = $"collective '{key}' of request {run.Id.RequestId}: {abort.Why}";
                    throw abort.Unreachable ? new RankUnreachableException(why) : new CollectiveException(why);
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    throw new RankUnreachableException($"collective '{key}' of request {run.Id.RequestId}: rank {rank} at {run.Addresses[rank]} sent nothing within {timeout.TotalSeconds:0.#} s");
                }

                Monitor.Wait(_gate, TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency));
            }
        }

        // Copied outside the lock so the receive loops are not held up by a large block.
        try
        {
            var encoding = WireEncoding.For(DataType.Float32, arrived.Wire);
            if (encoding.TensorBytes(arrived.Length) != destination.Length || encoding.WireBytes(destination.Length) != arrived.Length)
            {
                throw new CollectiveException($"collective '{key}' of request {run.Id.RequestId}: rank {rank} sent {arrived.Length} bytes{(encoding.IsNarrowed ? " of " + WireDataTypeNames.Name(arrived.Wire) : "")}, this rank has {destination.Length}");
            }

            encoding.Decode(arrived.Block.AsSpan(0, arrived.Length), destination);
        }
        finally
        {
            Return(arrived.Block);
        }
    }

    /// <summary>Forgets a run: its leftover blocks are returned to the pool, and late ones will be dropped.</summary>
    public void End(GroupRunId run)
    {
        lock (_gate)
        {
            _active.Remove(run);
            _aborted.Remove(run);
            foreach (var key in _blocks.Keys.Where(k => k.Run == run).ToList())
            {
                _blocks.Remove(key, out var left);
                Return(left.Block);
            }

            if (_ended.Add(run))
            {
                _endedOrder.Enqueue(run);
                if (_endedOrder.Count > RememberedEndedRuns)
                {
                    _ended.Remove(_endedOrder.Dequeue());
                }
            }
        }
    }

    /// <summary>Fails the waits of every active run whose group includes the worker at <paramref name="address"/>.</summary>
    public void AbortPeer(string address, string reason)
    {
        lock (_gate)
        {
            foreach (var (run, addresses) in _active)
            {
                int rank = Array.IndexOf(addresses, address);
                if (rank >= 0)
                {
                    _aborted.TryAdd(run, ($"rank {rank} at {address} {reason}", true));
                }
            }

            Monitor.PulseAll(_gate);
        }
    }

    private static void Return(byte[]? block)
    {
        if (block is not null)
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }
}
