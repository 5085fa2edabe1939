using System.Buffers;
using System.Buffers.Binary;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Reads frames from a connection's byte stream. Headers and control payloads go through a small read buffer; a
/// tensor's or collective block's payload is read from the socket straight into its destination (the tensor's
/// storage, a pooled array), so a large tensor crosses user space once, not once per buffer it passes. Nothing is
/// read ahead beyond the buffer, so a slow reader holds the sender back through TCP's own window (backpressure).
/// A tensor frame flagged as shared memory is copied from the connection's ring into the tensor's storage instead;
/// the connection's own SHARED_MEMORY frames go to its <see cref="SharedMemoryLink"/> and are not returned. A float32
/// tensor narrowed for the wire is widened into its storage, from the read buffer a piece at a time (or from the ring).
/// Not thread-safe: one reader loop per connection.
/// </summary>
public sealed class FrameReader
{
    private const int BufferBytes = 64 * 1024;
    private readonly ByteStreamReader _input;
    private readonly TransportLimits _limits;
    private readonly SharedMemoryLink? _sharedMemory;

    // A frame's deadline (the idle wait, then the read timeout): one source re-armed per frame rather than a linked
    // source and a new timer per frame, whose creation and disposal went through the process's timer queue.
    private CancellationTokenSource _timeout = new();
    private bool _onFrames;

    public FrameReader(Stream stream, TransportLimits limits, ITensorAllocator? allocator = null)
        : this(stream, limits, allocator, null)
    {
    }

    internal FrameReader(Stream stream, TransportLimits limits, ITensorAllocator? allocator, SharedMemoryLink? sharedMemory)
    {
        _input = new ByteStreamReader(stream, BufferBytes);
        _limits = limits;
        _sharedMemory = sharedMemory;
        Allocator = allocator ?? ITensorAllocator.Fresh;
    }

    /// <summary>Where received tensors get their storage (fresh tensors unless the owner recycles them).</summary>
    public ITensorAllocator Allocator { get; }

    /// <summary>
    /// The next frame, or null when the peer closed the connection between frames. Waits at most
    /// <paramref name="idleTimeout"/> for a frame to start and then <see cref="TransportLimits.ReadTimeout"/> for the rest.
    /// A Tensor frame is read into the storage <paramref name="place"/> gives, when it gives one of the tensor's type and size.
    /// A frame longer than <paramref name="maxPayloadBytes"/> is refused, whatever its type, before any of it is allocated.
    /// With <paramref name="inPlace"/>, a floating-point tensor that came through shared memory as it is (not narrowed,
    /// not placed, at most a quarter of the ring) is not copied out: the tensor views the ring, and its storage owner, a <see cref="RingLease"/>, must be
    /// disposed once nothing reads it (the ring's writer cannot pass it until then). A <paramref name="place"/> made by
    /// <see cref="KeepInRing"/> reads such tensors so too while the pieces kept leave half the ring free, and places the rest.
    /// </summary>
    public async ValueTask<Frame?> ReadAsync(TimeSpan idleTimeout, CancellationToken cancellation, OutputPlacement? place = null, uint maxPayloadBytes = uint.MaxValue, bool inPlace = false)
    {
        while (true)
        {
            var frame = await ReadOneAsync(idleTimeout, cancellation, place, maxPayloadBytes, inPlace).ConfigureAwait(false);
            if (_sharedMemory is null || frame?.Type is not (FrameType.SharedMemoryOffer or FrameType.SharedMemoryAnswer or FrameType.SharedMemorySwitch))
            {
                return frame;
            }

            await HandleSharedMemoryAsync(frame!, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An offer, answer or switch for the link; once the peer's frames move to the ring (the client's after the
    /// server's accepting answer, the server's after the client's switch), the next frame is read from there and the
    /// socket only watched.
    /// </summary>
    private async ValueTask HandleSharedMemoryAsync(Frame frame, CancellationToken cancellation)
    {
        await _sharedMemory!.HandleAsync(frame, cancellation).ConfigureAwait(false);
        if (_sharedMemory.PeerSendsFrames && _sharedMemory.Frames is { } frames && !_onFrames)
        {
            _input.SwitchTo(frames);
            _onFrames = true;
            _ = _sharedMemory.WatchTcpAsync();
        }
    }

    private async ValueTask<Frame?> ReadOneAsync(TimeSpan idleTimeout, CancellationToken cancellation, OutputPlacement? place, uint maxPayloadBytes, bool inPlace)
    {
        var timeout = _timeout;
        timeout.CancelAfter(idleTimeout);
        var linked = cancellation.UnsafeRegister(static t => ((CancellationTokenSource)t!).Cancel(), timeout);
        var reading = new ReadScope(timeout.Token, cancellation);
        try
        {
            if (!await _input.FillAsync(FrameHeader.Size, reading, allowCleanEnd: true).ConfigureAwait(false))
            {
                return null;
            }

            var header = FrameHeader.Read(_input.Take(FrameHeader.Size));
            if (header.Length > maxPayloadBytes)
            {
                throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a {header.Type} frame of {header.Length} bytes exceeds the limit of {maxPayloadBytes} here");
            }

            timeout.CancelAfter(_limits.ReadTimeout);
            if (header.Type == FrameType.Tensor)
            {
                return await ReadTensorAsync(header, reading, place, inPlace).ConfigureAwait(false);
            }

            if (header.Type == FrameType.Collective && header.Length >= Messages.CollectiveMessage.PrefixSize)
            {
                await _input.FillAsync(Messages.CollectiveMessage.PrefixSize, reading, allowCleanEnd: false).ConfigureAwait(false);
                int metaSize = Messages.CollectiveMessage.MetaSizeFromPrefix(_input.Peek(Messages.CollectiveMessage.PrefixSize));
                if (metaSize > 0)
                {
                    return await ReadBlockAsync(header, metaSize, reading).ConfigureAwait(false);
                }
            }

            if (header.Length > _limits.MaxControlFrameBytes)
            {
                throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a {header.Type} frame of {header.Length} bytes exceeds the limit of {_limits.MaxControlFrameBytes}");
            }

            byte[] payload = header.Length == 0 ? [] : new byte[header.Length];
            await _input.ReadExactlyAsync(payload, reading, "a frame").ConfigureAwait(false);
            return new Frame(header, payload);
        }
        finally
        {
            // The caller's cancellation no longer reaches this source before it is reset (or replaced, once it fired).
            linked.Dispose();
            if (!timeout.TryReset())
            {
                timeout.Dispose();
                _timeout = new CancellationTokenSource();
            }
        }
    }

    private async ValueTask<Frame> ReadTensorAsync(FrameHeader header, ReadScope reading, OutputPlacement? place, bool inPlace)
    {
        if (header.Length < TensorMeta.PrefixSize + 8 || header.Length > _limits.MaxTensorBytes + TensorMeta.MaxNameBytes + 512)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a tensor frame of {header.Length} bytes exceeds the limit of {_limits.MaxTensorBytes} bytes of data");
        }

        await _input.FillAsync(TensorMeta.PrefixSize, reading, allowCleanEnd: false).ConfigureAwait(false);
        int metaSize = TensorMeta.SizeFromPrefix(_input.Peek(TensorMeta.PrefixSize));
        if (metaSize > header.Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a tensor frame is shorter than its header");
        }

        await _input.FillAsync(metaSize, reading, allowCleanEnd: false).ConfigureAwait(false);
        var meta = TensorMeta.Read(_input.Take(metaSize));
        bool shared = header.Flags == FrameHeader.SharedMemoryFlag;
        if (shared ? header.Length != metaSize + 8 : meta.ByteLength != header.Length - metaSize)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"tensor '{meta.Name}' frame carries {header.Length - metaSize} bytes of data for {meta.ByteLength} announced");
        }

        if (meta.TensorBytes > _limits.MaxTensorBytes)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"tensor '{meta.Name}' of {meta.TensorBytes} bytes exceeds the limit of {_limits.MaxTensorBytes}");
        }

        // Results a coordinator's caller takes as views of the ring are placed only when they cannot stay there.
        bool keep = KeepInRing.Asks(place);
        var placed = keep ? null : Placed(place, meta);
        SharedRing? ring = null;
        long position = 0;
        if (shared)
        {
            ring = (_sharedMemory ?? throw new ClusterException(ClusterErrorCode.Malformed, "a shared-memory tensor on a connection that shares no memory")).Incoming;
            await _input.FillAsync(8, reading, allowCleanEnd: false).ConfigureAwait(false);
            position = BinaryPrimitives.ReadInt64LittleEndian(_input.Take(8));
            // At most a quarter of the ring each: the writer waits for kept pieces only when several runs are queued.
            bool keepable = placed is null && !meta.WireEncoding.IsNarrowed && DataTypes.IsFloatingPoint(meta.DataType) && meta.TensorBytes <= ring.Capacity / 4;
            if (keepable && (inPlace || (keep && ring.CanKeepWithinHalf(position, meta.TensorBytes))))
            {
                return new Frame(header, [], meta.Name, ring.ReadInPlace(position, meta.DataType, meta.Shape, meta.TensorBytes));
            }
        }

        if (keep)
        {
            placed = Placed(place, meta);
        }

        var tensor = placed ?? Allocator.Allocate(meta.DataType, meta.Shape);
        try
        {
            if (ring is not null)
            {
                ring.Read(position, tensor.Bytes, meta.WireEncoding);
            }
            else if (meta.WireEncoding.IsNarrowed)
            {
                await ReadEncodedAsync(tensor, meta, reading).ConfigureAwait(false);
            }
            else
            {
                using var memory = new TensorMemory(tensor);
                await _input.ReadExactlyAsync(memory.Memory, reading, $"tensor '{meta.Name}'").ConfigureAwait(false);
            }
        }
        catch
        {
            if (placed is null)
            {
                Allocator.Return(tensor);
            }

            throw;
        }

        return new Frame(header, [], meta.Name, tensor);
    }

    /// <summary>The storage <paramref name="place"/> gives for the tensor, or null (none given, or of another type or size).</summary>
    private static Tensor? Placed(OutputPlacement? place, TensorMeta meta)
    {
        var placed = place?.Invoke(meta.Name, meta.DataType, meta.Shape);
        // Storage of another type or size would be written past or read wrong: take a fresh tensor instead.
        return placed is not null && (placed.DataType != meta.DataType || placed.ByteLength != meta.TensorBytes) ? null : placed;
    }

    /// <summary>Widens a narrowed tensor's bytes into its storage as they arrive in the read buffer.</summary>
    private async ValueTask ReadEncodedAsync(Tensor tensor, TensorMeta meta, ReadScope reading)
    {
        var encoding = meta.WireEncoding;
        int done = 0;
        for (long left = meta.ByteLength; left > 0;)
        {
            // A piece must fit the buffer; a fill reads whatever the socket has beyond it, so the next piece is mostly there.
            int piece = (int)Math.Min(left, BufferBytes / 2);
            await _input.FillAsync(piece, reading, allowCleanEnd: false).ConfigureAwait(false);
            done += DecodePiece(tensor, encoding, done, piece);
            left -= piece;
        }
    }

    private int DecodePiece(Tensor tensor, WireEncoding encoding, int done, int wireBytes)
    {
        int tensorBytes = (int)encoding.TensorBytes(wireBytes);
        encoding.Decode(_input.Take(wireBytes), tensor.Bytes.Slice(done, tensorBytes));
        return tensorBytes;
    }

    /// <summary>
    /// A Collective block frame: the part before the block as the payload, the block read into an array rented from
    /// the shared pool (so a stream of collectives allocates nothing per frame).
    /// </summary>
    private async ValueTask<Frame> ReadBlockAsync(FrameHeader header, int metaSize, ReadScope reading)
    {
        long blockLength = (long)header.Length - metaSize;
        if (blockLength < 0 || blockLength > _limits.MaxTensorBytes)
        {
            throw new ClusterException(blockLength < 0 ? ClusterErrorCode.Malformed : ClusterErrorCode.FrameTooLarge, $"a collective frame of {header.Length} bytes does not fit its header or exceeds the limit of {_limits.MaxTensorBytes} bytes of data");
        }

        byte[] meta = new byte[metaSize];
        await _input.ReadExactlyAsync(meta, reading, "a collective frame").ConfigureAwait(false);
        byte[] block = ArrayPool<byte>.Shared.Rent((int)blockLength);
        try
        {
            await _input.ReadExactlyAsync(block.AsMemory(0, (int)blockLength), reading, "a collective block").ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(block);
            throw;
        }

        return new Frame(header, meta) { Block = block, BlockLength = (int)blockLength };
    }
}
