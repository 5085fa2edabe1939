using System.Diagnostics;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Worker;
using Tessera.Kernels.Collective;
using Tessera.Tensors;

namespace Tessera.Cluster.Collective;

/// <summary>
/// The communicator of one loaded model on a worker: at each collective it sends this rank's block to every other
/// rank of the current group run straight over the peer links (worker to worker, authenticated, never through the
/// coordinator) and takes theirs from the <see cref="CollectiveInbox"/>. The model's thread sets the group run
/// around each request (<see cref="Begin"/>/<see cref="End"/>); the group is per request, not per model, because
/// one shard may serve several replicas' groups.
/// </summary>
/// <remarks>
/// Not thread-safe: one model thread uses it, one run at a time. The block goes from the kernel's span into the
/// peers' output pipes without a copy; received blocks are copied once, from the pooled array the frame reader
/// filled into the gathered buffer. AllReduceSum reuses one gather buffer, so steady-state runs allocate only
/// the small frame headers. A request whose wire data type is float16 or bfloat16 sends float32 partial sums narrowed
/// (into one reused buffer) and widens the others' blocks into the gathered buffer.
/// </remarks>
internal sealed class NetworkCommunicator : ICollectiveCommunicator
{
    private readonly CollectiveInbox _inbox;
    private readonly PeerLinks _peers;
    private readonly TimeSpan _timeout;
    private GroupRun? _run;
    private byte[] _gathered = [];
    private byte[] _narrowed = [];

    public NetworkCommunicator(CollectiveInbox inbox, PeerLinks peers, TimeSpan timeout)
    {
        _inbox = inbox;
        _peers = peers;
        _timeout = timeout;
    }

    public int Rank => _run?.Rank ?? 0;

    public int Size => _run?.Size ?? 1;

    public void Begin(GroupRun? run)
    {
        _run = run;
        if (run is not null)
        {
            _inbox.Begin(run);
        }
    }

    public void End()
    {
        if (_run is { } run)
        {
            _inbox.End(run.Id);
        }

        _run = null;
    }

    public void AllGather(string key, ReadOnlySpan<byte> local, Span<byte> gathered)
    {
        int size = Size;
        if (gathered.Length != (long)local.Length * size)
        {
            throw new ArgumentException($"AllGather '{key}': {gathered.Length} bytes cannot hold {size} blocks of {local.Length}");
        }

        Gather(key, local, local, WireDataType.Float32, gathered);
    }

    /// <summary>
    /// Sends <paramref name="sent"/> (<paramref name="local"/> as it travels by <paramref name="wire"/>) to every other
    /// rank and gathers <paramref name="local"/> and theirs, as they were before the wire, into <paramref name="gathered"/>.
    /// </summary>
    private void Gather(string key, ReadOnlySpan<byte> local, ReadOnlySpan<byte> sent, WireDataType wire, Span<byte> gathered)
    {
        // A shard run alone would silently give its partial result: its route step must name every rank.
        var run = _run ?? throw new CollectiveException($"collective '{key}': this model is a tensor-parallel shard, but the request runs it without its group (the route step names one rank)");

        int size = Size;
        long deadline = Stopwatch.GetTimestamp() + (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
        var meta = new CollectiveMessage(CollectiveKind.Block, run.Rank, size, run.Id.Stage, run.Id.ReplyTo, key, string.Empty) { Wire = wire }.Write(sent.Length).Written.Span;
        // Send to the ranks after this one first, then wrap around: rank r and r+1 do not both start at rank 0.
        for (int i = 1; i < size; i++)
        {
            Send(run, (run.Rank + i) % size, key, meta, sent);
        }

        int n = local.Length;
        local.CopyTo(gathered.Slice(run.Rank * n, n));
        for (int q = 0; q < size; q++)
        {
            if (q != run.Rank)
            {
                _inbox.Take(run, key, q, gathered.Slice(q * n, n), deadline, _timeout);
            }
        }
    }

    public void AllReduceSum(string key, DataType elementType, Span<byte> data)
    {
        CollectiveSum.ThrowIfUnsupported(elementType);
        int size = Size;
        if (size == 1 && _run is not null)
        {
            return;
        }

        long bytes = (long)data.Length * size;
        if (_gathered.Length < bytes)
        {
            _gathered = new byte[checked((int)bytes)];
        }

        var gathered = _gathered.AsSpan(0, (int)bytes);
        if (_run is { Wire: not WireDataType.Float32 } run && elementType == DataType.Float32)
        {
            var encoding = WireEncoding.For(DataType.Float32, run.Wire);
            int wireBytes = (int)encoding.WireBytes(data.Length);
            if (_narrowed.Length < wireBytes)
            {
                _narrowed = new byte[wireBytes];
            }

            var narrowed = _narrowed.AsSpan(0, wireBytes);
            encoding.Encode(data, narrowed);
            // This rank adds its own block as the others receive it, so that every rank sums the same values (same bits).
            encoding.Decode(narrowed, data);
            Gather(key, data, narrowed, run.Wire, gathered);
        }
        else
        {
            AllGather(key, data, gathered);
        }

        // Rank order 0..size-1, exactly as every other communicator sums.
        CollectiveSum.SumBlocks(elementType, gathered, size, data);
    }

    /// <summary>Tells the other ranks of <paramref name="run"/> that this rank gave up, so they stop waiting now. Best effort.</summary>
    public static void SendAbort(PeerLinks peers, GroupRun run, string reason)
    {
        var payload = new CollectiveMessage(CollectiveKind.Abort, run.Rank, run.Size, run.Id.Stage, run.Id.ReplyTo, string.Empty, Truncate(reason)).Write(0);
        for (int q = 0; q < run.Size; q++)
        {
            if (q != run.Rank)
            {
                _ = SendAbortAsync(peers, run.Addresses[q], run.Id.RequestId, payload);
            }
        }
    }

    private static async Task SendAbortAsync(PeerLinks peers, string address, ulong requestId, WireWriter payload)
    {
        try
        {
            var link = await peers.GetAsync(address, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await link.Writer.SendAsync(FrameType.Collective, requestId, payload, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClusterException or TimeoutException)
        {
            // The peer is gone; it has nothing to wait for.
        }
    }

    private void Send(GroupRun run, int rank, string key, ReadOnlySpan<byte> meta, ReadOnlySpan<byte> block)
    {
        string address = run.Addresses[rank];
        ClusterConnection? link = null;
        try
        {
            link = _peers.GetAsync(address, CancellationToken.None).WaitAsync(_timeout).GetAwaiter().GetResult();
            link.Writer.SendBlock(FrameType.Collective, run.Id.RequestId, meta, block, _timeout);
        }
        catch (Exception e) when (e is ClusterException or TimeoutException)
        {
            if (link is not null)
            {
                _peers.Drop(address, link);
            }

            throw new RankUnreachableException($"collective '{key}' of request {run.Id.RequestId}: cannot send to rank {rank} at {address}: {e.Message}");
        }
    }

    private static string Truncate(string reason) => reason.Length > 1000 ? reason[..1000] : reason;
}
