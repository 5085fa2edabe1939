using System.Buffers;
using System.IO.Pipelines;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Reads frames from a connection's input pipe. Control payloads are buffered whole (they are small by limit);
/// tensor payloads are copied from the pipe's segments straight into a new tensor's storage as they arrive, so a
/// large tensor never needs to fit in the pipe. Not thread-safe: one reader loop per connection.
/// </summary>
public sealed class FrameReader
{
    private readonly PipeReader _reader;
    private readonly TransportLimits _limits;

    public FrameReader(PipeReader reader, TransportLimits limits)
    {
        if (limits.PauseThresholdBytes <= limits.MaxControlFrameBytes + FrameHeader.Size)
        {
            throw new ArgumentException("the pipe pause threshold must exceed the largest control frame");
        }

        _reader = reader;
        _limits = limits;
    }

    /// <summary>
    /// The next frame, or null when the peer closed the connection between frames. Waits at most
    /// <paramref name="idleTimeout"/> for a frame to start and then <see cref="TransportLimits.ReadTimeout"/> for the rest.
    /// </summary>
    public async ValueTask<Frame?> ReadAsync(TimeSpan idleTimeout, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(idleTimeout);
        var start = await ReadAtLeastAsync(FrameHeader.Size, timeout.Token, cancellation, allowCleanEnd: true).ConfigureAwait(false);
        if (start.IsEmpty)
        {
            return null;
        }

        var header = ParseHeader(start);
        _reader.AdvanceTo(start.GetPosition(FrameHeader.Size));
        timeout.CancelAfter(_limits.ReadTimeout);
        if (header.Type == FrameType.Tensor)
        {
            return await ReadTensorAsync(header, timeout.Token, cancellation).ConfigureAwait(false);
        }

        if (header.Type == FrameType.Collective && header.Length >= Messages.CollectiveMessage.PrefixSize)
        {
            var prefix = await ReadAtLeastAsync(Messages.CollectiveMessage.PrefixSize, timeout.Token, cancellation, allowCleanEnd: false).ConfigureAwait(false);
            int metaSize = Messages.CollectiveMessage.MetaSizeFromPrefix(prefix.Slice(0, Messages.CollectiveMessage.PrefixSize).ToArray());
            _reader.AdvanceTo(prefix.Start);
            if (metaSize > 0)
            {
                return await ReadBlockAsync(header, metaSize, timeout.Token, cancellation).ConfigureAwait(false);
            }
        }

        if (header.Length > _limits.MaxControlFrameBytes)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a {header.Type} frame of {header.Length} bytes exceeds the limit of {_limits.MaxControlFrameBytes}");
        }

        if (header.Length == 0)
        {
            // ReadAtLeastAsync(0) would wait for the next bytes: an empty frame is complete now.
            return new Frame(header, []);
        }

        var body = await ReadAtLeastAsync((int)header.Length, timeout.Token, cancellation, allowCleanEnd: false).ConfigureAwait(false);
        byte[] payload = body.Slice(0, header.Length).ToArray();
        _reader.AdvanceTo(body.GetPosition(header.Length));
        return new Frame(header, payload);
    }

    private static FrameHeader ParseHeader(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(bytes);
        return FrameHeader.Read(bytes);
    }

    private async ValueTask<Frame> ReadTensorAsync(FrameHeader header, CancellationToken timeout, CancellationToken cancellation)
    {
        if (header.Length < TensorMeta.PrefixSize + 8 || header.Length > _limits.MaxTensorBytes + TensorMeta.MaxNameBytes + 512)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a tensor frame of {header.Length} bytes exceeds the limit of {_limits.MaxTensorBytes} bytes of data");
        }

        var prefix = await ReadAtLeastAsync(TensorMeta.PrefixSize, timeout, cancellation, allowCleanEnd: false).ConfigureAwait(false);
        int metaSize = TensorMeta.SizeFromPrefix(prefix.Slice(0, TensorMeta.PrefixSize).ToArray());
        _reader.AdvanceTo(prefix.Start);
        if (metaSize > header.Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a tensor frame is shorter than its header");
        }

        var metaBuffer = await ReadAtLeastAsync(metaSize, timeout, cancellation, allowCleanEnd: false).ConfigureAwait(false);
        var meta = TensorMeta.Read(metaBuffer.Slice(0, metaSize).ToArray());
        _reader.AdvanceTo(metaBuffer.GetPosition(metaSize));
        if (meta.ByteLength != header.Length - metaSize)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{meta.Name}' frame carries {header.Length - metaSize} bytes of data for {meta.ByteLength} announced");
        }

        if (meta.ByteLength > _limits.MaxTensorBytes)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"tensor '{meta.Name}' of {meta.ByteLength} bytes exceeds the limit of {_limits.MaxTensorBytes}");
        }

        var tensor = Tensor.Allocate(meta.DataType, meta.Shape);
        long copied = 0;
        while (copied < meta.ByteLength)
        {
            var result = await ReadOrTimeoutAsync(timeout, cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            long take = Math.Min(buffer.Length, meta.ByteLength - copied);
            buffer.Slice(0, take).CopyTo(tensor.Bytes.Slice((int)copied, (int)take));
            copied += take;
            _reader.AdvanceTo(buffer.GetPosition(take));
            if (copied < meta.ByteLength && result.IsCompleted)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"the connection closed in the middle of tensor '{meta.Name}'");
            }
        }

        return new Frame(header, [], meta.Name, tensor);
    }

    /// <summary>
    /// A Collective block frame: the part before the block as the payload, the block copied from the pipe's segments
    /// into an array rented from the shared pool (so a stream of collectives allocates nothing per frame).
    /// </summary>
    private async ValueTask<Frame> ReadBlockAsync(FrameHeader header, int metaSize, CancellationToken timeout, CancellationToken cancellation)
    {
        long blockLength = (long)header.Length - metaSize;
        if (blockLength < 0 || blockLength > _limits.MaxTensorBytes)
        {
            throw new ClusterException(blockLength < 0 ? ClusterErrorCode.Malformed : ClusterErrorCode.FrameTooLarge, $"a collective frame of {header.Length} bytes does not fit its header or exceeds the limit of {_limits.MaxTensorBytes} bytes of data");
        }

        var metaBuffer = await ReadAtLeastAsync(metaSize, timeout, cancellation, allowCleanEnd: false).ConfigureAwait(false);
        byte[] meta = metaBuffer.Slice(0, metaSize).ToArray();
        _reader.AdvanceTo(metaBuffer.GetPosition(metaSize));
        byte[] block = ArrayPool<byte>.Shared.Rent((int)blockLength);
        long copied = 0;
        try
        {
            while (copied < blockLength)
            {
                var result = await ReadOrTimeoutAsync(timeout, cancellation).ConfigureAwait(false);
                var buffer = result.Buffer;
                long take = Math.Min(buffer.Length, blockLength - copied);
                buffer.Slice(0, take).CopyTo(block.AsSpan((int)copied, (int)take));
                copied += take;
                _reader.AdvanceTo(buffer.GetPosition(take));
                if (copied < blockLength && result.IsCompleted)
                {
                    throw new ClusterException(ClusterErrorCode.Malformed, "the connection closed in the middle of a collective block");
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(block);
            throw;
        }

        return new Frame(header, meta) { Block = block, BlockLength = (int)blockLength };
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> bytes are buffered and returns them unconsumed (the caller
    /// advances). Returns an empty buffer at a clean end of stream when allowed.
    /// </summary>
    private async ValueTask<ReadOnlySequence<byte>> ReadAtLeastAsync(int count, CancellationToken timeout, CancellationToken cancellation, bool allowCleanEnd)
    {
        ReadResult result;
        try
        {
            result = await _reader.ReadAtLeastAsync(count, timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "the peer sent nothing within the timeout");
        }

        var buffer = result.Buffer;
        if (buffer.Length >= count)
        {
            return buffer;
        }

        _reader.AdvanceTo(buffer.Start, buffer.End);
        if (buffer.IsEmpty && allowCleanEnd)
        {
            return buffer;
        }

        throw new ClusterException(ClusterErrorCode.Malformed, "the connection closed in the middle of a frame");
    }

    private async ValueTask<ReadResult> ReadOrTimeoutAsync(CancellationToken timeout, CancellationToken cancellation)
    {
        try
        {
            return await _reader.ReadAsync(timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "a tensor did not arrive within the read timeout");
        }
    }
}
