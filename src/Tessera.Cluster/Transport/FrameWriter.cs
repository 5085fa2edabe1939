using System.Buffers;
using System.IO.Pipelines;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Writes frames into a connection's output pipe. A message (a control frame and the tensor frames that belong to
/// it) is written under one lock, so messages never interleave. Tensor bytes are copied from the tensor's storage
/// straight into the pipe's buffers, which the send loop hands to the socket: no serialised copy in between.
/// Flushes wait while the pipe is over its pause threshold (backpressure), at most the read timeout.
/// </summary>
public sealed class FrameWriter
{
    private const int FlushEvery = 1 << 20;
    private const int ChunkBytes = 256 * 1024;
    private readonly PipeWriter _writer;
    private readonly TransportLimits _limits;
    private readonly SemaphoreSlim _lock = new(1, 1);

    public FrameWriter(PipeWriter writer, TransportLimits limits)
    {
        _writer = writer;
        _limits = limits;
    }

    public Task SendAsync(FrameType type, ulong requestId, WireWriter? payload, CancellationToken cancellation) =>
        SendAsync(type, requestId, payload?.Written ?? ReadOnlyMemory<byte>.Empty, [], cancellation);

    /// <summary>Sends a control frame followed by one Tensor frame per tensor, all with the same request id.</summary>
    public async Task SendAsync(FrameType type, ulong requestId, ReadOnlyMemory<byte> payload, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, CancellationToken cancellation)
    {
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            WriteControl(type, requestId, payload.Span);
            long unflushed = FrameHeader.Size + payload.Length;
            foreach (var (name, tensor) in tensors)
            {
                var meta = TensorMeta.For(name, tensor);
                WriteTensorHeader(requestId, meta);
                for (int offset = 0; offset < tensor.ByteLength;)
                {
                    int count = Math.Min(ChunkBytes, tensor.ByteLength - offset);
                    CopyChunk(tensor, offset, count);
                    offset += count;
                    unflushed += count;
                    if (unflushed >= FlushEvery)
                    {
                        await FlushAsync(cancellation).ConfigureAwait(false);
                        unflushed = 0;
                    }
                }
            }

            await FlushAsync(cancellation).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // The output pipe was completed: the connection is closing.
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Sends one frame of <paramref name="meta"/> followed by <paramref name="block"/>, copied from the caller's memory
    /// straight into the pipe (no copy in between), blocking the calling thread: collectives run on a model's own
    /// thread, inside a kernel, where the block is a span that cannot wait across an await.
    /// </summary>
    public void SendBlock(FrameType type, ulong requestId, ReadOnlySpan<byte> meta, ReadOnlySpan<byte> block, TimeSpan timeout)
    {
        if (!_lock.Wait(timeout))
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "the connection was busy for the whole timeout");
        }

        try
        {
            var span = _writer.GetSpan(FrameHeader.Size + meta.Length);
            new FrameHeader(checked((uint)(meta.Length + block.Length)), type, requestId).Write(span);
            meta.CopyTo(span[FrameHeader.Size..]);
            _writer.Advance(FrameHeader.Size + meta.Length);
            for (int offset = 0, unflushed = 0; offset < block.Length;)
            {
                int count = Math.Min(ChunkBytes, block.Length - offset);
                block.Slice(offset, count).CopyTo(_writer.GetSpan(count));
                _writer.Advance(count);
                offset += count;
                unflushed += count;
                if (unflushed >= FlushEvery && offset < block.Length)
                {
                    FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    unflushed = 0;
                }
            }

            FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Writes raw bytes as they are, for tests that feed a peer garbage or hand-made frames.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            _writer.Write(bytes.Span);
            await FlushAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private void WriteControl(FrameType type, ulong requestId, ReadOnlySpan<byte> payload)
    {
        var span = _writer.GetSpan(FrameHeader.Size + payload.Length);
        new FrameHeader((uint)payload.Length, type, requestId).Write(span);
        payload.CopyTo(span[FrameHeader.Size..]);
        _writer.Advance(FrameHeader.Size + payload.Length);
    }

    private void WriteTensorHeader(ulong requestId, TensorMeta meta)
    {
        int metaSize = meta.Size;
        var span = _writer.GetSpan(FrameHeader.Size + metaSize);
        new FrameHeader(checked((uint)(metaSize + meta.ByteLength)), FrameType.Tensor, requestId).Write(span);
        meta.Write(span[FrameHeader.Size..]);
        _writer.Advance(FrameHeader.Size + metaSize);
    }

    private void CopyChunk(Tensor tensor, int offset, int count)
    {
        var span = _writer.GetSpan(count);
        tensor.Bytes.Slice(offset, count).CopyTo(span);
        _writer.Advance(count);
    }

    private async ValueTask FlushAsync(CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_limits.ReadTimeout);
        FlushResult result;
        try
        {
            result = await _writer.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "the peer did not take our data within the timeout");
        }
        catch (InvalidOperationException)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }

        if (result.IsCompleted)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }
    }
}
