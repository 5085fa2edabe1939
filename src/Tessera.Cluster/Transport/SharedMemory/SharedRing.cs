using Tessera.Cluster.Native;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// One direction of a <see cref="SharedSegment"/>: a ring of tensor bytes with one writer (the sending side's frame
/// writer, under its lock) and one reader (the receiving side's frame reader, which copies each tensor out as its
/// frame arrives, so space comes back in the order it was taken). Positions count bytes since the start and never
/// wrap; a piece that would cross the ring's end starts at its beginning instead. The reader publishes how far it has
/// consumed in the segment's header, which is all the writer needs to know what it may overwrite: no release frames.
/// A writer that finds no room sleeps on a futex in the header, which the reader wakes when it consumes.
/// Each side keeps its own position, so a peer that scribbles over the header can spoil only its own data.
/// The reader may also keep a piece in place (<see cref="ReadInPlace"/>, a tensor over the ring itself) and give it back
/// later: the consumed position it publishes then stops at the oldest piece still kept.
/// </summary>
internal sealed unsafe class SharedRing
{
    private const int Alignment = 64;
    private readonly SharedSegment _segment;
    private readonly long _dataOffset;
    private readonly int _controlOffset;
    private long _position;

    // Reader side: the pieces since the oldest one still kept in place, oldest first (empty when none is kept); the
    // lock also orders publishing the consumed position between the reader and whoever gives a piece back.
    private readonly Queue<RingLease> _kept = new();

    // Reader side: the consumed position last published (under the lease lock).
    private long _published;

    /// <param name="controlOffset">Where the ring's control sits in the segment: u64 consumed position, i32 wake-up counter, i32 writer waiting.</param>
    public SharedRing(SharedSegment segment, long dataOffset, long capacity, int controlOffset)
    {
        _segment = segment;
        _dataOffset = dataOffset;
        Capacity = capacity;
        _controlOffset = controlOffset;
    }

    public long Capacity { get; }

    /// <summary>
    /// For either side: maps the ring's pages into this process now. Left to fault in, the writer's first pass over a
    /// 32 MiB ring takes 8192 page faults: on this project's 2-core VM that pass cost 100 ms of CPU, against 5 ms for
    /// one madvise and 55 ms for the pass after it; a batch coordinator pays it once per worker, inside the job's run.
    /// The reader's first pass faults too (fewer, the kernel maps a few pages around each), inside a worker's first
    /// runs. The pages are the segment's, allocated in /dev/shm when it was made, so this takes no more memory (the
    /// process's resident size just counts the whole ring from the start).
    /// </summary>
    public SharedRing Populated()
    {
        _segment.PopulateForWriting(_dataOffset, Capacity);
        return this;
    }

    /// <summary>Whether a piece of this many bytes can ever go through the ring (larger tensors go inline).</summary>
    public bool Fits(long bytes) => Align(bytes) <= Capacity;

    /// <summary>
    /// Writes <paramref name="tensor"/>'s bytes by <paramref name="encoding"/> into free space (its wire bytes, which
    /// <see cref="Fits"/>) and returns its position for the frame; false when there is no room until the reader has
    /// caught up. A tensor on <see cref="DeferredStorage"/> sent as it is has its bytes written straight into the ring.
    /// </summary>
    public bool TryWrite(Tensor tensor, WireEncoding encoding, out long position)
    {
        var deferred = encoding.IsNarrowed ? null : tensor.StorageOwner as DeferredStorage;
        if (deferred is null) DeferredStorage.Materialize(tensor);
        return TryWrite(deferred is null ? tensor.Bytes : default, deferred is null ? null : tensor, encoding, out position);
    }

    /// <summary>Writes <paramref name="source"/> (tensor bytes) by <paramref name="encoding"/> as <see cref="TryWrite(Tensor, WireEncoding, out long)"/> does.</summary>
    public bool TryWrite(ReadOnlySpan<byte> source, WireEncoding encoding, out long position) => TryWrite(source, null, encoding, out position);

    /// <param name="deferred">A tensor on deferred storage whose source writes its bytes instead of <paramref name="source"/>.</param>
    private bool TryWrite(ReadOnlySpan<byte> source, Tensor? deferred, WireEncoding encoding, out long position)
    {
        int wireBytes = (int)encoding.WireBytes(deferred?.ByteLength ?? source.Length);
        long length = Align(wireBytes);
        position = Start(_position, length);
        byte* data = _segment.Acquire();
        try
        {
            if (!HasRoom(data, position + length))
            {
                return false;
            }

            var space = new Span<byte>(data + _dataOffset + (position % Capacity), wireBytes);
            if (deferred is not null)
            {
                ((DeferredStorage)deferred.StorageOwner!).WriteTo(deferred, space);
            }
            else
            {
                encoding.Encode(source, space);
            }
        }
        finally
        {
            _segment.Release();
        }

        _position = position + length;
        return true;
    }

    /// <summary>
    /// Takes the next piece of <paramref name="bytes"/> (sent as they are) for its owner to fill before its frame goes
    /// out (<see cref="RingOutputs"/>, which holds the writer's ring gate meanwhile, so the pieces' frames follow in ring
    /// order): false when there is no room until the reader has caught up. The segment stays mapped for the piece until
    /// <see cref="ReleaseReserved"/>, even if the connection closes meanwhile.
    /// </summary>
    public bool TryReserve(long bytes, out long position, out byte* pointer)
    {
        long length = Align(bytes);
        position = Start(_position, length);
        pointer = null;
        byte* data = _segment.Acquire();
        if (!HasRoom(data, position + length))
        {
            _segment.Release();
            return false;
        }

        pointer = data + _dataOffset + (position % Capacity);
        _position = position + length;
        return true;
    }

    /// <summary>
    /// Whether a piece of <paramref name="bytes"/> reserved next can ever find room while the pieces from
    /// <paramref name="from"/> on stay unsent: the reader can give back only what lies before them.
    /// </summary>
    public bool CanReserveAfter(long from, long bytes)
    {
        long length = Align(bytes);
        return Start(_position, length) + length - from <= Capacity;
    }

    /// <summary>Lets the mapping go for one piece <see cref="TryReserve"/> took.</summary>
    public void ReleaseReserved() => _segment.Release();

    /// <summary>Where the writer puts its next piece (for <see cref="Rewind"/>).</summary>
    public long Position => _position;

    /// <summary>Takes back the pieces reserved since <paramref name="position"/>, none of whose frames went out.</summary>
    public void Rewind(long position) => _position = position;

    /// <summary>
    /// Decodes the piece at <paramref name="position"/> by <paramref name="encoding"/> into <paramref name="destination"/>
    /// (tensor bytes) and gives its space back. A position other than where the writer puts the next piece is
    /// <see cref="ClusterErrorCode.Malformed"/>.
    /// </summary>
    public void Read(long position, Span<byte> destination, WireEncoding encoding)
    {
        int wireBytes = (int)encoding.WireBytes(destination.Length);
        long length = CheckNext(position, wireBytes);
        byte* data = _segment.Acquire();
        try
        {
            encoding.Decode(new ReadOnlySpan<byte>(data + _dataOffset + (position % Capacity), wireBytes), destination);
            lock (_kept)
            {
                if (_kept.Count == 0)
                {
                    Publish(data, position + length);
                }
                else
                {
                    // Copied out, but the writer may not pass the older pieces still kept.
                    _kept.Enqueue(new RingLease(null, position + length) { Released = true });
                }
            }
        }
        finally
        {
            _segment.Release();
        }

        _position = position + length;
    }

    /// <summary>
    /// The piece at <paramref name="position"/> (a tensor's bytes as they are, not narrowed) as a tensor over the ring
    /// itself, whose storage owner is a <see cref="RingLease"/>: the writer may not overwrite it until that is disposed.
    /// A position other than where the writer puts the next piece is <see cref="ClusterErrorCode.Malformed"/>.
    /// The peer can still write into the piece meanwhile, so only tensors whose any bit pattern is harmless (floating
    /// point) should be read this way: a scribbling peer spoils its own results, never an index a kernel trusts.
    /// </summary>
    public Tensor ReadInPlace(long position, DataType dataType, int[] shape, long bytes)
    {
        long length = CheckNext(position, bytes);
        var lease = new RingLease(this, position + length);
        // Held by the lease: the tensor's memory stays mapped until it is given back.
        byte* data = _segment.Acquire();
        lock (_kept)
        {
            _kept.Enqueue(lease);
        }

        _position = position + length;
        return Tensor.FromPointer(dataType, shape, data + _dataOffset + (position % Capacity), lease);
    }

    /// <summary>
    /// Whether the reader can keep the piece of <paramref name="bytes"/> at <paramref name="position"/> in place and still
    /// hold at most half the ring unconsumed: the writer keeps the other half for what comes next, so a reader that keeps
    /// pieces for a while (a coordinator's caller holding results) costs copies beyond that, not a stalled writer.
    /// </summary>
    public bool CanKeepWithinHalf(long position, long bytes)
    {
        lock (_kept)
        {
            return Start(position, Align(bytes)) + Align(bytes) - _published <= Capacity / 2;
        }
    }

    /// <summary>A kept piece is back: publishes the consumed position past every piece back before the oldest still kept.</summary>
    internal void GiveBack(RingLease lease)
    {
        try
        {
            byte* data;
            try
            {
                data = _segment.Acquire();
            }
            catch (ClusterException)
            {
                // The connection is closed: no writer is left to tell.
                return;
            }

            try
            {
                lock (_kept)
                {
                    lease.Released = true;
                    long consumed = -1;
                    while (_kept.TryPeek(out var oldest) && oldest.Released)
                    {
                        consumed = _kept.Dequeue().End;
                    }

                    if (consumed >= 0)
                    {
                        Publish(data, consumed);
                    }
                }
            }
            finally
            {
                _segment.Release();
            }
        }
        finally
        {
            // The lease's own hold on the mapping, taken in ReadInPlace.
            _segment.Release();
        }
    }

    /// <summary>The aligned length of a piece of <paramref name="wireBytes"/> at <paramref name="position"/>, which must be the next one.</summary>
    private long CheckNext(long position, long wireBytes)
    {
        long length = Align(wireBytes);
        if (length > Capacity || position != Start(_position, length))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a shared-memory tensor at position {position} of {wireBytes} bytes is not the next piece of the ring");
        }

        return length;
    }

    /// <summary>Tells the writer it may overwrite everything before <paramref name="consumed"/>, waking it if it sleeps for room.</summary>
    private void Publish(byte* data, long consumed)
    {
        _published = consumed;
        Volatile.Write(ref *(long*)(data + _controlOffset), consumed);
        // The increment is a full fence: the writer either sees the new position or is woken (it raised its flag first).
        int* wake = (int*)(data + _controlOffset + 8);
        Interlocked.Increment(ref *wake);
        if (Volatile.Read(ref wake[1]) != 0)
        {
            Volatile.Write(ref wake[1], 0);
            Libc.FutexWake(wake);
        }
    }

    /// <summary>Sleeps until the reader consumes something or <paramref name="microseconds"/> pass (after a failed <see cref="TryWrite"/>).</summary>
    public void WaitForReader(long bytes, int microseconds)
    {
        long end = Start(_position, Align(bytes)) + Align(bytes);
        byte* data = _segment.Acquire();
        try
        {
            int* wake = (int*)(data + _controlOffset + 8);
            int seen = Volatile.Read(ref *wake);
            Volatile.Write(ref wake[1], 1);
            Interlocked.MemoryBarrier();
            if (!HasRoom(data, end))
            {
                Libc.FutexWait(wake, seen, microseconds);
            }
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>
    /// Whether a piece ending at <paramref name="end"/> overwrites only consumed bytes: those of a lap ago, or any when
    /// the reader has consumed everything written (a piece that starts over at the ring's beginning skips a gap that
    /// would otherwise count as taken).
    /// </summary>
    private bool HasRoom(byte* data, long end)
    {
        long consumed = Volatile.Read(ref *(long*)(data + _controlOffset));
        return end - consumed <= Capacity || consumed == _position;
    }

    private long Start(long position, long length)
    {
        long offset = position % Capacity;
        return offset + length > Capacity ? position + Capacity - offset : position;
    }

    private static long Align(long bytes) => (bytes + Alignment - 1) & ~(long)(Alignment - 1);
}
