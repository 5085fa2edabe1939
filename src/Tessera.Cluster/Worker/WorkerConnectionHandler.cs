using Microsoft.Extensions.Logging;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// Serves one authenticated connection: answers heartbeats and model questions in order, takes uploads, hands
/// RUN requests to the <see cref="StageExecutor"/> without waiting for them, and files collective blocks from
/// other ranks in the <see cref="Collective.CollectiveInbox"/>. A protocol error closes this
/// connection only (with an Error frame saying why); the worker goes on serving the others.
/// </summary>
internal sealed class WorkerConnectionHandler
{
    private readonly WorkerServer _server;
    private readonly ClusterConnection _connection;
    private ModelUpload? _upload;

    // When this connection's loop began waiting for its current frame: a RUN's Receive interval (its wake-up, the
    // frame and its tensors read and parsed) runs from here to its tensors read.
    private PipelineTrace.Mark _reading;

    public WorkerConnectionHandler(WorkerServer server, ClusterConnection connection)
    {
        _server = server;
        _connection = connection;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var logger = _server.Logger;
        if (_connection.Role == ConnectionRole.Coordinator)
        {
            _server.AddCoordinator(_connection);
        }

        try
        {
            // Peer links carry no heartbeats and may rest between requests; coordinators ping.
            var idle = _connection.Role == ConnectionRole.Peer ? Timeout.InfiniteTimeSpan : _connection.Limits.IdleTimeout;
            while (true)
            {
                _reading = PipelineTrace.Start();
                if (await _connection.Reader.ReadAsync(idle, stopping).ConfigureAwait(false) is not { } frame)
                {
                    break;
                }

                await HandleAsync(frame, stopping).ConfigureAwait(false);
            }

            WorkerLog.Closed(logger, _connection.RemoteEndPoint);
        }
        catch (ClusterException e)
        {
            WorkerLog.ProtocolError(logger, _connection.RemoteEndPoint, e.Code, e.Message);
            await _connection.TrySendErrorAsync(0, e.Code, e.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            WorkerLog.Unexpected(logger, _connection.RemoteEndPoint, e);
            await _connection.TrySendErrorAsync(0, ClusterErrorCode.Internal, "internal error: " + e.Message).ConfigureAwait(false);
        }
        finally
        {
            _server.RemoveCoordinator(_connection);
            _upload?.Dispose();
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(Frame frame, CancellationToken stopping)
    {
        ulong id = frame.RequestId;
        switch (frame.Type)
        {
            case FrameType.Ping:
                await _connection.Writer.SendAsync(FrameType.Pong, id, _server.Describe().Write(), stopping).ConfigureAwait(false);
                break;
            case FrameType.ModelQuery:
                await ReplyStateAsync(id, _server.Models.State(ReadHash(frame.Payload)), stopping).ConfigureAwait(false);
                break;
            case FrameType.ModelBegin:
                await BeginUploadAsync(frame, stopping).ConfigureAwait(false);
                break;
            case FrameType.ModelChunk:
                await AppendAsync(frame).ConfigureAwait(false);
                break;
            case FrameType.ModelEnd:
                await EndUploadAsync(id, stopping).ConfigureAwait(false);
                break;
            case FrameType.ModelLoad:
                _ = LoadAsync(id, ReadHash(frame.Payload));
                break;
            case FrameType.ModelCostQuery:
                string hex = ReadHash(frame.Payload);
                var costs = _server.Models.TryGetLoaded(hex, out var loaded) ? loaded.Costs.Snapshot() : [];
                await _connection.Writer.SendAsync(FrameType.ModelCosts, id, new ModelCostsMessage(Convert.FromHexString(hex), costs).Write(), stopping).ConfigureAwait(false);
                break;
            case FrameType.Run:
                var run = RunMessage.Read(frame.Payload);
                var tensors = await ReadTensorsAsync(id, run.TensorCount, inPlace: run.Stage.Degree == 1, stopping).ConfigureAwait(false);
                if (PipelineTrace.Current is not null) TraceReceived(id, run.Current, tensors);
                _server.RequestStarted();
                _ = _server.Executor.ExecuteAsync(id, run, tensors, _connection);
                break;
            case FrameType.Collective:
                DeliverCollective(frame);
                break;
            case FrameType.Error:
                var error = ErrorMessage.Read(frame.Payload);
                WorkerLog.RequestFailed(_server.Logger, id, error.Code, $"reported by {_connection.RemoteEndPoint}: {error.Message}");
                break;
            default:
                throw new ClusterException(ClusterErrorCode.Malformed, $"a worker does not accept {frame.Type} frames");
        }
    }

    /// <summary>A RUN read (<see cref="PipelineTrace.Kind.Receive"/>): its rows are its first tensor's.</summary>
    private void TraceReceived(ulong id, int stage, Dictionary<string, Tensor> tensors)
    {
        int rows = 0;
        foreach (var t in tensors.Values)
        {
            if (t.Rank > 0)
            {
                rows = t.Shape[0];
                break;
            }
        }

        PipelineTrace.End(PipelineTrace.Kind.Receive, _reading, id, stage, rows);
    }

    /// <summary>A block (or abort) from another rank of a group: kept until this rank's model thread takes it.</summary>
    private void DeliverCollective(Frame frame)
    {
        CollectiveMessage message;
        try
        {
            message = CollectiveMessage.Read(frame.Payload, frame.BlockLength);
        }
        catch (ClusterException)
        {
            if (frame.Block is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(frame.Block);
            }

            throw;
        }

        _server.Collectives.Deliver(frame.RequestId, message, frame.Block, frame.BlockLength);
    }

    /// <summary>
    /// A RUN's tensors. With <paramref name="inPlace"/> (a stage of one rank: nothing reads its inputs after its run)
    /// those that come through shared memory stay in the ring (<see cref="Transport.SharedMemory.RingLease"/>, given
    /// back by the <see cref="StageExecutor"/> once the run is over) instead of being copied out: a copy of each stage's
    /// input per run. The writer waits for room only for a message's first piece, for runs already queued, which end
    /// whatever this connection does; a later piece that finds none comes inline.
    /// </summary>
    private async Task<Dictionary<string, Tensor>> ReadTensorsAsync(ulong id, int count, bool inPlace, CancellationToken stopping)
    {
        var tensors = new Dictionary<string, Tensor>(count, StringComparer.Ordinal);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var frame = await _connection.Reader.ReadAsync(_connection.Limits.ReadTimeout, stopping, inPlace: inPlace).ConfigureAwait(false);
                if (frame is not { Type: FrameType.Tensor, Tensor: not null } || frame.RequestId != id)
                {
                    RingLease.GiveBack(frame?.Tensor);
                    throw new ClusterException(ClusterErrorCode.Malformed, $"request {id} announced {count} tensors but tensor {i + 1} did not follow");
                }

                if (!tensors.TryAdd(frame.TensorName!, frame.Tensor))
                {
                    RingLease.GiveBack(frame.Tensor);
                    throw new ClusterException(ClusterErrorCode.Malformed, $"request {id} carries tensor '{frame.TensorName}' twice");
                }
            }
        }
        catch
        {
            RingLease.GiveBack(tensors.Values);
            throw;
        }

        return tensors;
    }

    private async Task BeginUploadAsync(Frame frame, CancellationToken stopping)
    {
        var r = new WireReader(frame.Payload);
        byte[] hash = r.Bytes(Protocol.HashBytes).ToArray();
        long length = (long)r.U64();
        r.End();
        _upload?.Dispose();
        _upload = null;
        try
        {
            _upload = _server.Models.BeginUpload(frame.RequestId, hash, length);
            await ReplyStateAsync(frame.RequestId, ModelState.Absent, stopping).ConfigureAwait(false);
        }
        catch (ClusterException e)
        {
            await RefuseModelAsync(frame.RequestId, hash, e).ConfigureAwait(false);
        }
    }

    private async Task AppendAsync(Frame frame)
    {
        // Chunks of a refused upload are dropped: the coordinator already has the error.
        if (_upload is null || _upload.RequestId != frame.RequestId)
        {
            return;
        }

        try
        {
            _upload.Append(frame.Payload);
        }
        catch (Exception e) when (e is ClusterException or IOException)
        {
            var upload = _upload;
            _upload = null;
            upload.Dispose();
            await RefuseModelAsync(frame.RequestId, upload.ExpectedHash, e as ClusterException ?? new ClusterException(ClusterErrorCode.Internal, "cannot write the model to the cache: " + e.Message)).ConfigureAwait(false);
        }
    }

    private async Task EndUploadAsync(ulong id, CancellationToken stopping)
    {
        var upload = _upload;
        if (upload is null || upload.RequestId != id)
        {
            await _connection.TrySendErrorAsync(id, ClusterErrorCode.BadRequest, "no model upload in progress for this request").ConfigureAwait(false);
            return;
        }

        _upload = null;
        try
        {
            _server.Models.CompleteUpload(upload);
            await ReplyStateAsync(id, ModelState.Cached, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClusterException or IOException)
        {
            await RefuseModelAsync(id, upload.ExpectedHash, e as ClusterException ?? new ClusterException(ClusterErrorCode.Internal, "cannot store the model: " + e.Message)).ConfigureAwait(false);
        }
        finally
        {
            upload.Dispose();
        }
    }

    private async Task LoadAsync(ulong id, string hex)
    {
        try
        {
            var model = await _server.Models.LoadAsync(hex).ConfigureAwait(false);
            var message = new ModelLoadedMessage(Convert.FromHexString(hex), model.Bytes, model.InputNames, model.OutputNames);
            await _connection.Writer.SendAsync(FrameType.ModelLoaded, id, message.Write(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception caught)
        {
            var e = caught as ClusterException ?? new ClusterException(ClusterErrorCode.Internal, $"cannot load model {hex}: {caught.Message}", caught);
            await RefuseModelAsync(id, Convert.FromHexString(hex), e).ConfigureAwait(false);
        }
    }

    private async Task RefuseModelAsync(ulong id, byte[] hash, ClusterException e)
    {
        WorkerLog.ModelRefused(_server.Logger, Convert.ToHexStringLower(hash), e.Code, e.Message);
        await _connection.TrySendErrorAsync(id, e.Code, e.Message).ConfigureAwait(false);
    }

    private Task ReplyStateAsync(ulong id, ModelState state, CancellationToken stopping) =>
        _connection.Writer.SendAsync(FrameType.ModelStatus, id, new WireWriter().U8((byte)state), stopping);

    private static string ReadHash(byte[] payload)
    {
        var r = new WireReader(payload);
        string hex = Convert.ToHexStringLower(r.Bytes(Protocol.HashBytes));
        r.End();
        return hex;
    }
}
