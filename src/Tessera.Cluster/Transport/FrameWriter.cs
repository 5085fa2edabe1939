using System.Buffers.Binary;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Writes frames to a connection's byte stream. A message (a control frame and the tensor frames that belong to it)
/// is written under one lock, so messages never interleave. Headers, control payloads and small tensors are gathered
/// in a buffer and sent in one write; a large tensor goes from its own storage to the socket (no copy in user space).
/// A write that fails or times out part-way leaves a torn frame on the wire, so the connection is aborted then.
/// On a connection that shares memory with its peer, a tensor of at least <see cref="SharedMemoryMinBytes"/> is copied
/// into the shared ring instead and its frame carries the ring position (a writer waits for room as for TCP's window
/// for its message's first piece; a later piece that finds no room goes inline, since the reader may keep the earlier
/// ones until the run this message starts is over; a tensor larger than the whole ring goes inline too); a tensor on <see cref="DeferredStorage"/> has its bytes
/// written there by their source, and is filled in its own storage first when it goes over TCP. A message may narrow its float32 tensors for the wire
/// (<see cref="WireDataType"/>): they are converted into the ring, or through the buffer a piece at a time, never into
/// a whole-tensor copy.
/// </summary>
public sealed class FrameWriter
{
    /// <summary>Smaller tensors ride in the gathered write with their header, where shared memory would save nothing.</summary>
    public const int SharedMemoryMinBytes = 32 * 1024;
    private const int BufferBytes = 64 * 1024;

    /// <summary>Room below which the buffer is sent before the next piece of a narrowed tensor goes into it.</summary>
    private const int MinEncodeRoom = 4 * 1024;
    private Stream _stream;
    private readonly TransportLimits _limits;
    private readonly Action _abort;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _used;
    private bool _broken;
    private CancellationTokenSource _timeout = new();
    private SharedRing? _sharedRing;

    /// <param name="abort">Closes the connection after a torn write (the stream's owner knows how).</param>
    public FrameWriter(Stream stream, TransportLimits limits, Action? abort = null)
    {
        _stream = stream;
        _limits = limits;
        _abort = abort ?? stream.Dispose;
    }

    /// <summary>
    /// Held by whoever puts pieces into <see cref="SharedRing"/> until their frames are out (a message with tensors, or a
    /// run computing its outputs there: <see cref="RingOutputs"/>); taken before the lock.
    /// </summary>
    internal SemaphoreSlim RingGate { get; } = new(1, 1);

    /// <summary>The ring this side's tensors go through, once the connection's peer has accepted shared memory.</summary>
    internal SharedRing? SharedRing
    {
        get => Volatile.Read(ref _sharedRing);
        set => Volatile.Write(ref _sharedRing, value);
    }

    public Task SendAsync(FrameType type, ulong requestId, WireWriter? payload, CancellationToken cancellation) =>
        SendAsync(type, requestId, payload?.Written ?? ReadOnlyMemory<byte>.Empty, [], cancellation);

    /// <summary>
    /// Sends a control frame followed by one Tensor frame per tensor, all with the same request id; float32 tensors
    /// travel as <paramref name="wire"/>. <paramref name="cancellation"/> is honoured until the message starts; once
    /// started it is written whole (or the connection is aborted on a timeout), since a half-written frame would garble
    /// every later message.
    /// </summary>
    public Task SendAsync(FrameType type, ulong requestId, ReadOnlyMemory<byte> payload, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, CancellationToken cancellation, WireDataType wire = WireDataType.Float32) =>
        SendAsync(type, requestId, payload, tensors, cancellation, wire, held: null);

    /// <summary>
    /// As the public SendAsync; tensors computed into this connection's ring (<paramref name="held"/>, which holds the
    /// ring gate) go first and without a copy. A message with tensors takes the ring gate before the lock (the order
    /// every sender keeps), so its ring pieces cannot come between a <see cref="RingOutputs"/>' pieces and their frames.
    /// </summary>
    internal async Task SendAsync(FrameType type, ulong requestId, ReadOnlyMemory<byte> payload, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, CancellationToken cancellation, WireDataType wire, RingOutputs? held)
    {
        if (held is not null && (held.Writer != this || !held.HoldsGate)) held = null;
        bool gate = held is null && tensors.Count > 0 && SharedRing is not null;
        if (gate)
        {
            await RingGate.WaitAsync(cancellation).ConfigureAwait(false);
        }

        try
        {
            await SendLockedAsync(type, requestId, payload, held?.Order(tensors, wire) ?? tensors, cancellation, wire, held, ring: gate ? SharedRing : held?.Ring).ConfigureAwait(false);
        }
        finally
        {
            if (gate) RingGate.Release();
        }
    }

    /// <param name="ring">The ring tensors may go through: only with the ring gate held.</param>
    private async Task SendLockedAsync(FrameType type, ulong requestId, ReadOnlyMemory<byte> payload, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, CancellationToken cancellation, WireDataType wire, RingOutputs? held, SharedRing? ring)
    {
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        var timeout = StartTimeout();
        try
        {
            ThrowIfBroken();
            await AppendHeaderAsync(new FrameHeader(checked((uint)payload.Length), type, requestId), timeout).ConfigureAwait(false);
            await AppendAsync(payload, timeout).ConfigureAwait(false);
            // Whether a piece of this message went into the ring: the reader may keep those until the message's run is
            // over (a worker's stage inputs, read in place), so a later piece must not wait for their room.
            bool inRing = false;
            foreach (var (name, tensor) in tensors)
            {
                var meta = TensorMeta.For(name, tensor, wire);
                int metaSize = meta.Size;
                WireCounters.Sent(meta.ByteLength);
                if (meta.ByteLength >= SharedMemoryMinBytes && ring is not null && ring.Fits(meta.ByteLength))
                {
                    long position = 0;
                    bool placed = held is not null && held.TryPositionOf(tensor, out position);
                    for (int waits = 0; !placed && !(placed = TryWriteToRing(ring, tensor, meta.WireEncoding, out position, paced: !inRing)) && !inRing; waits++)
                    {
                        // The reader is behind: wait for it as for TCP's window (the message's first piece only).
                        await WaitForRoomAsync(ring, meta.ByteLength, timeout).ConfigureAwait(false);
                    }

                    if (!placed)
                    {
                        // No room beside this message's earlier pieces, which the reader may hold until this one arrives.
                        await WriteInlineAsync(requestId, tensor, meta, timeout).ConfigureAwait(false);
                        continue;
                    }

                    inRing = true;

                    await AppendHeaderAsync(new FrameHeader(checked((uint)(metaSize + 8)), FrameType.Tensor, requestId, FrameHeader.SharedMemoryFlag), timeout).ConfigureAwait(false);
                    await EnsureRoomAsync(metaSize + 8, timeout).ConfigureAwait(false);
                    meta.Write(_buffer.AsSpan(_used, metaSize));
                    BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_used + metaSize), position);
                    _used += metaSize + 8;
                    continue;
                }

                await WriteInlineAsync(requestId, tensor, meta, timeout).ConfigureAwait(false);
            }

            await FlushAsync(timeout).ConfigureAwait(false);
        }
        finally
        {
            _used = 0;
            StopTimeout();
            _lock.Release();
        }
    }

    /// <summary>A tensor frame with the bytes themselves (over the socket or the frame ring), under the lock.</summary>
    private async Task WriteInlineAsync(ulong requestId, Tensor tensor, TensorMeta meta, CancellationToken timeout)
    {
        int metaSize = meta.Size;
        Materialize(tensor);
        await AppendHeaderAsync(new FrameHeader(checked((uint)(metaSize + meta.ByteLength)), FrameType.Tensor, requestId), timeout).ConfigureAwait(false);
        await EnsureRoomAsync(metaSize, timeout).ConfigureAwait(false);
        meta.Write(_buffer.AsSpan(_used, metaSize));
        _used += metaSize;
        if (meta.WireEncoding.IsNarrowed)
        {
            await AppendEncodedAsync(tensor, meta.WireEncoding, timeout).ConfigureAwait(false);
            return;
        }

        using var memory = new TensorMemory(tensor);
        await AppendAsync(memory.Memory, timeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one frame of <paramref name="meta"/> followed by <paramref name="block"/>, written from the caller's memory
    /// to the stream, blocking the calling thread: collectives run on a model's own thread, inside a kernel, where the
    /// block is a span that cannot wait across an await. The stream's own write timeout bounds a stalled peer.
    /// </summary>
    public void SendBlock(FrameType type, ulong requestId, ReadOnlySpan<byte> meta, ReadOnlySpan<byte> block, TimeSpan timeout)
    {
        if (!_lock.Wait(timeout))
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "the connection was busy for the whole timeout");
        }

        try
        {
            ThrowIfBroken();
            var header = new FrameHeader(checked((uint)(meta.Length + block.Length)), type, requestId);
            WireCounters.Sent(block.Length);
            header.Write(_buffer);
            meta.CopyTo(_buffer.AsSpan(FrameHeader.Size));
            int head = FrameHeader.Size + meta.Length;
            // A block that fits goes out with its header in one write; a larger one straight from the caller's span.
            int inline = block.Length <= _buffer.Length - head ? block.Length : 0;
            block[..inline].CopyTo(_buffer.AsSpan(head));
            Write(_buffer.AsSpan(0, head + inline));
            if (inline < block.Length)
            {
                Write(block[inline..]);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Sends one control frame and moves every later message to <paramref name="next"/>, under the lock, so that no
    /// other message slips onto the old stream after it (the shared-memory answer, after which frames use the ring).
    /// </summary>
    internal async Task SendThenSwitchAsync(FrameType type, WireWriter payload, Stream next, CancellationToken cancellation)
    {
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        var timeout = StartTimeout();
        try
        {
            ThrowIfBroken();
            await AppendHeaderAsync(new FrameHeader(checked((uint)payload.Written.Length), type, 0), timeout).ConfigureAwait(false);
            await AppendAsync(payload.Written, timeout).ConfigureAwait(false);
            await FlushAsync(timeout).ConfigureAwait(false);
            _stream = next;
        }
        finally
        {
            _used = 0;
            StopTimeout();
            _lock.Release();
        }
    }

    /// <summary>Writes raw bytes as they are, for tests that feed a peer garbage or hand-made frames.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        var timeout = StartTimeout();
        try
        {
            ThrowIfBroken();
            await WriteAsync(bytes, timeout).ConfigureAwait(false);
        }
        finally
        {
            StopTimeout();
            _lock.Release();
        }
    }

    /// <summary>
    /// Writes <paramref name="tensor"/> into the ring (<see cref="SharedRing.TryWrite(Tensor, WireEncoding, out long, bool)"/>).
    /// A deferred tensor's source may fail there (a file cut short) after this message's first frames went out: the
    /// connection cannot carry another message then, and the caller gets the source's own exception.
    /// </summary>
    private bool TryWriteToRing(SharedRing ring, Tensor tensor, WireEncoding encoding, out long position, bool paced)
    {
        try
        {
            return ring.TryWrite(tensor, encoding, out position, paced);
        }
        catch (Exception e) when (e is not ClusterException)
        {
            Broken(timedOut: false);
            throw;
        }
    }

    /// <summary>Fills a deferred tensor's own storage before it goes over the socket; a failing source breaks the connection as in <see cref="TryWriteToRing"/>.</summary>
    private void Materialize(Tensor tensor)
    {
        try
        {
            DeferredStorage.Materialize(tensor);
        }
        catch (Exception e) when (e is not ClusterException)
        {
            Broken(timedOut: false);
            throw;
        }
    }

    /// <summary>
    /// Sleeps until the reader consumes or 10 ms pass, on a pool thread: the caller's thread may be the one that reads
    /// (in this process), and a closed connection ends the wait within those 10 ms (the mapping is gone).
    /// </summary>
    private async Task WaitForRoomAsync(SharedRing ring, long bytes, CancellationToken timeout)
    {
        if (timeout.IsCancellationRequested)
        {
            // Frames of this message may be out already: the connection cannot carry another one.
            throw Broken(timedOut: true);
        }

        // Only a message's first piece waits (paced: see SharedRing.Paces).
        await Task.Run(() => ring.WaitForReader(bytes, 10_000, paced: true), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The deadline of the message being written (under the lock): one source per writer, re-armed for each message,
    /// rather than a new timer per message (each one's creation and disposal went through the process's timer queue).
    /// </summary>
    private CancellationToken StartTimeout()
    {
        _timeout.CancelAfter(_limits.ReadTimeout);
        return _timeout.Token;
    }

    private void StopTimeout()
    {
        if (!_timeout.TryReset())
        {
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }
    }

    private void ThrowIfBroken()
    {
        if (_broken)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
        }
    }

    private async ValueTask AppendHeaderAsync(FrameHeader header, CancellationToken timeout)
    {
        await EnsureRoomAsync(FrameHeader.Size, timeout).ConfigureAwait(false);
        header.Write(_buffer.AsSpan(_used));
        _used += FrameHeader.Size;
    }

    /// <summary>Copies <paramref name="bytes"/> into the buffer when they fit in what is left; otherwise sends the buffer and then them directly.</summary>
    private async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken timeout)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.Span.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
            return;
        }

        await FlushAsync(timeout).ConfigureAwait(false);
        if (bytes.Length < BufferBytes / 2)
        {
            bytes.Span.CopyTo(_buffer);
            _used = bytes.Length;
            return;
        }

        await WriteAsync(bytes, timeout).ConfigureAwait(false);
    }

    /// <summary>Converts <paramref name="tensor"/> into the buffer by <paramref name="encoding"/>, sending the buffer whenever it fills.</summary>
    private async ValueTask AppendEncodedAsync(Tensor tensor, WireEncoding encoding, CancellationToken timeout)
    {
        for (int done = 0; done < tensor.ByteLength;)
        {
            if (_buffer.Length - _used < MinEncodeRoom)
            {
                await FlushAsync(timeout).ConfigureAwait(false);
            }

            done += EncodePiece(tensor, encoding, done);
        }
    }

    /// <summary>Encodes as much of the tensor from byte <paramref name="done"/> on as the buffer holds; returns the tensor bytes taken.</summary>
    private int EncodePiece(Tensor tensor, WireEncoding encoding, int done)
    {
        // Whole elements of the tensor and of the wire type: the room rounded down to 8 bytes.
        int room = (_buffer.Length - _used) & ~7;
        int tensorBytes = (int)Math.Min(tensor.ByteLength - done, encoding.TensorBytes(room));
        int wireBytes = (int)encoding.WireBytes(tensorBytes);
        encoding.Encode(tensor.Bytes.Slice(done, tensorBytes), _buffer.AsSpan(_used, wireBytes));
        _used += wireBytes;
        return tensorBytes;
    }

    private async ValueTask EnsureRoomAsync(int count, CancellationToken timeout)
    {
        if (_buffer.Length - _used < count)
        {
            await FlushAsync(timeout).ConfigureAwait(false);
        }

        if (count > _buffer.Length)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"a frame header of {count} bytes exceeds the writer's buffer");
        }
    }

    private async ValueTask FlushAsync(CancellationToken timeout)
    {
        if (_used > 0)
        {
            await WriteAsync(_buffer.AsMemory(0, _used), timeout).ConfigureAwait(false);
            _used = 0;
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken timeout)
    {
        try
        {
            await _stream.WriteAsync(bytes, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            throw Broken(e is OperationCanceledException);
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _stream.Write(bytes);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            throw Broken(e is IOException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.TimedOut } });
        }
    }

    private ClusterException Broken(bool timedOut)
    {
        _broken = true;
        try
        {
            _abort();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }

        return timedOut
            ? new ClusterException(ClusterErrorCode.Timeout, "the peer did not take our data within the timeout")
            : new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
    }
}
