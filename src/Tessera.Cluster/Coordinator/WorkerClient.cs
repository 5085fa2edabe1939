using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// The coordinator's connection to one worker: a receive loop that routes answers to pending requests, and a
/// heartbeat loop that marks the worker down when nothing has arrived for <see cref="CoordinatorOptions.DownAfter"/>
/// or the connection closes. A down worker is probed by its coordinator, which attaches a new connection to this
/// same client (routes keep referring to it), loads its models again and marks it up.
/// </summary>
public sealed class WorkerClient : IAsyncDisposable
{
    private const int Up = 0, Down = 1, Reviving = 2;

    // While frames keep arriving the worker is evidently alive, and a heartbeat's ping only refreshes its info: then at
    // most this often. Each ping costs a wake-up of the worker's frame thread and of this side's for the pong (bench-cluster
    // GPT data parallel, perf sched_waking: the heartbeats' wake-ups were about a third of the coordinator's).
    private static readonly TimeSpan InfoRefreshWhileBusy = TimeSpan.FromSeconds(1);

    private readonly Action<WorkerClient> _wentDown;
    private ClusterConnection _connection;
    private readonly PendingRequests _pending;
    private readonly CoordinatorOptions _options;
    private readonly ILogger _logger;
    private CancellationTokenSource _stop = new();
    private Task _receiveLoop;
    private Task _heartbeatLoop;
    private long _lastSeen = Stopwatch.GetTimestamp();
    private long _downSince;
    private int _state;
    private int _outstanding;
    private long _pingsSent;
    private long _pongs;
    private volatile bool _disposed;

    /// <param name="wentDown">Called once each time the worker goes from up to down (not when a revival fails).</param>
    internal WorkerClient(string address, ClusterConnection connection, PendingRequests pending, CoordinatorOptions options, ILogger logger, Action<WorkerClient> wentDown)
    {
        _wentDown = wentDown;
        Address = address;
        _connection = connection;
        _pending = pending;
        _options = options;
        _logger = logger;
        Info = connection.Worker!;
        _receiveLoop = ReceiveLoopAsync();
        _heartbeatLoop = HeartbeatLoopAsync();
    }

    public string Address { get; }

    public string Name => Info.Name;

    /// <summary>The worker's last reported state (memory, requests in flight), refreshed by every heartbeat (at least once a second).</summary>
    public WorkerInfo Info { get; private set; }

    /// <summary>Up: requests may use it. Not while down, nor while a new connection's models are being loaded.</summary>
    public bool IsUp => Volatile.Read(ref _state) == Up;

    /// <summary>Why the worker was marked down, once it was.</summary>
    public string? DownReason { get; private set; }

    /// <summary>How long the worker has been down (zero while it is up): a deployment plans around it after a grace period.</summary>
    public TimeSpan DownFor => IsUp ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Volatile.Read(ref _downSince));

    /// <summary>Requests this coordinator has sent that involve the worker and are not answered yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    internal FrameWriter Writer => _connection.Writer;

    /// <summary>How tensors travel to and from the worker: "shared memory", or "TCP: " and why.</summary>
    public string TensorPath => _connection.TensorPath;

    /// <summary>The models made sure of on this worker, by hash: what a restarted worker must get again.</summary>
    internal ConcurrentDictionary<string, ModelFile> Models { get; } = new(StringComparer.Ordinal);

    private bool IsDown => Volatile.Read(ref _state) == Down;

    /// <summary>True once the coordinator let go of the worker: nothing brings it back.</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>A worker connection carries one model upload at a time (the protocol's upload has no stream id).</summary>
    internal SemaphoreSlim UploadGate { get; } = new(1, 1);

    internal void Began() => Interlocked.Increment(ref _outstanding);

    internal void Ended() => Interlocked.Decrement(ref _outstanding);

    private async Task ReceiveLoopAsync()
    {
        string reason = "closed the connection";
        try
        {
            while (await _connection.Reader.ReadAsync(Timeout.InfiniteTimeSpan, _stop.Token).ConfigureAwait(false) is { } frame)
            {
                Volatile.Write(ref _lastSeen, Stopwatch.GetTimestamp());
                await DispatchAsync(frame).ConfigureAwait(false);
            }
        }
        catch (ClusterException e)
        {
            reason = e.Message;
        }
        catch (OperationCanceledException)
        {
            reason = "disconnected by the coordinator";
        }
        catch (InvalidOperationException) when (_stop.IsCancellationRequested)
        {
            // MarkDown closes the connection while this loop may be mid-read; whatever the closed stream throws then,
            // a fault here would surface in DisposeAsync and end a revival's wait for the old loops.
            reason = "disconnected by the coordinator";
        }

        MarkDown(reason);
    }

    /// <summary>A result read (<see cref="PipelineTrace.Kind.Receive"/>): its stage field counts the tensors left in the ring, its rows the first one's.</summary>
    private static void TraceReceived(PipelineTrace.Mark received, ulong id, Dictionary<string, Tensor> tensors)
    {
        int kept = 0, rows = 0;
        foreach (var t in tensors.Values)
        {
            if (t.StorageOwner is RingLease) kept++;
            if (rows == 0 && t.Rank > 0) rows = t.Shape[0];
        }

        PipelineTrace.End(PipelineTrace.Kind.Receive, received, id, kept, rows);
    }

    private async Task DispatchAsync(Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Pong:
                Info = WorkerInfo.Read(frame.Payload);
                Interlocked.Increment(ref _pongs);
                break;
            case FrameType.Result:
                var received = PipelineTrace.Start();
                var r = new WireReader(frame.Payload);
                int count = r.U16();
                r.End();
                var tensors = new Dictionary<string, Tensor>(count, StringComparer.Ordinal);
                var place = _pending.PlacementOf(frame.RequestId);
                try
                {
                    for (int i = 0; i < count; i++)
                    {
                        var t = await _connection.Reader.ReadAsync(_options.Limits.ReadTimeout, _stop.Token, place).ConfigureAwait(false);
                        if (t is not { Type: FrameType.Tensor, Tensor: not null } || t.RequestId != frame.RequestId)
                        {
                            throw new ClusterException(ClusterErrorCode.Malformed, $"result {frame.RequestId} announced {count} tensors but they did not follow");
                        }

                        tensors[t.TensorName!] = t.Tensor;
                    }
                }
                catch
                {
                    RingLease.GiveBack(tensors.Values);
                    throw;
                }

                if (PipelineTrace.Current is not null) TraceReceived(received, frame.RequestId, tensors);
                if (!_pending.Complete(frame.RequestId, new Reply(frame, tensors)))
                {
                    // Nobody waits for it any more (timed out, cancelled): results kept in the ring would hold it for good.
                    RingLease.GiveBack(tensors.Values);
                }

                break;
            case FrameType.Error:
                var error = ErrorMessage.Read(frame.Payload);
                if (frame.RequestId == 0)
                {
                    // The worker is closing this connection; the loop ends with the close.
                    throw new ClusterException(error.Code, $"worker {Name} closed the connection: {error.Message}");
                }

                _pending.Fail(frame.RequestId, new ClusterException(error.Code, error.Message));
                break;
            case FrameType.ModelStatus or FrameType.ModelLoaded or FrameType.ModelCosts:
                _pending.Complete(frame.RequestId, new Reply(frame, new Dictionary<string, Tensor>()));
                break;
            default:
                throw new ClusterException(ClusterErrorCode.Malformed, $"a worker sent an unexpected {frame.Type} frame");
        }
    }

    private async Task HeartbeatLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);

        // Stopping disposes the timer, which ends the wait with false: a wait cancelled by the token throws an exception
        // whose stack trace .NET resolves to source lines by reading the PDBs (a tenth of a second of CPU in a profile
        // of a batch job's shutdown).
        using var stopping = _stop.Token.UnsafeRegister(t => ((PeriodicTimer)t!).Dispose(), timer);
        long pinged = 0;
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false) && !IsDown)
        {
            var silent = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastSeen));
            if (silent > _options.DownAfter)
            {
                MarkDown($"stopped answering (nothing for {silent.TotalSeconds:0.0} s)");
                break;
            }

            if (silent < _options.HeartbeatInterval && Stopwatch.GetElapsedTime(pinged) < InfoRefreshWhileBusy)
            {
                continue;
            }

            // A send blocked by a full pipe must not stall the checks above: do not await it for long.
            pinged = Stopwatch.GetTimestamp();
            _ = SendPingAsync();
        }
    }

    private async Task SendPingAsync()
    {
        try
        {
            await _connection.Writer.SendAsync(FrameType.Ping, 0, null, _stop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _pingsSent);
        }
        catch (Exception e) when (e is ClusterException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The worker's state as it is now, not as of the last heartbeat: pings now and waits for the answer (a worker
    /// answers pings in order, so the pong that brings the count of pings sent up to this one answers it).
    /// </summary>
    public async Task<WorkerInfo> RefreshInfoAsync(CancellationToken cancellation = default)
    {
        long before = Interlocked.Read(ref _pingsSent);
        await SendPingAsync().ConfigureAwait(false);
        long answered = Interlocked.Read(ref _pingsSent);
        if (answered == before)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, $"worker {Name} at {Address} could not be pinged");
        }

        while (Interlocked.Read(ref _pongs) < answered)
        {
            if (!IsUp)
            {
                throw new ClusterException(ClusterErrorCode.WorkerDown, $"worker {Name} at {Address} {DownReason ?? "is not up"}");
            }

            await Task.Delay(5, cancellation).ConfigureAwait(false);
        }

        return Info;
    }

    /// <summary>Marks the worker down once, fails every request that needed it and closes the connection.</summary>
    internal void MarkDown(string reason)
    {
        int was = Interlocked.Exchange(ref _state, Down);
        if (was == Down)
        {
            return;
        }

        DownReason = reason;
        if (was == Up) Volatile.Write(ref _downSince, Stopwatch.GetTimestamp()); // a failed revival does not restart the clock
        CoordinatorLog.WorkerDown(_logger, Name, Address, reason);
        _pending.FailInvolving(this, $"worker {Name} at {Address} {reason}");
        _stop.Cancel();
        _ = _connection.DisposeAsync().AsTask();
        if (was == Up && !_disposed)
        {
            _wentDown(this);
        }
    }

    /// <summary>
    /// Takes a new authenticated connection to the (restarted) worker in place of the closed one: the loops run
    /// again, but the worker stays out of routes until <see cref="MarkUp"/>. False (and the connection closed) once disposed.
    /// </summary>
    internal async Task<bool> AttachAsync(ClusterConnection connection)
    {
        // The old loops end soon after MarkDown cancelled them; they must not see the new connection's fields.
        await Task.WhenAll(_receiveLoop, _heartbeatLoop).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (_disposed || !IsDown)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        _stop = new CancellationTokenSource(); // the old one stays undisposed: pings still sending may hold its token
        _connection = connection;
        Info = connection.Worker!;
        // Pings of the old connection are never answered.
        Interlocked.Exchange(ref _pongs, Interlocked.Read(ref _pingsSent));
        Volatile.Write(ref _lastSeen, Stopwatch.GetTimestamp());
        Volatile.Write(ref _state, Reviving);
        _receiveLoop = ReceiveLoopAsync();
        _heartbeatLoop = HeartbeatLoopAsync();
        return true;
    }

    /// <summary>Puts an attached worker back into routes; false when it went down again meanwhile.</summary>
    internal bool MarkUp()
    {
        if (Interlocked.CompareExchange(ref _state, Up, Reviving) != Reviving)
        {
            return false;
        }

        CoordinatorLog.WorkerUp(_logger, Name, Address);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        MarkDown("disconnected by the coordinator");
        await Task.WhenAll(_receiveLoop, _heartbeatLoop).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
