using Tessera.Cluster.Native;
using Tessera.Tensors;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// One direction of a <see cref="SharedSegment"/>: a ring of tensor bytes with one writer (the sending side's frame
/// writer, under its lock) and one reader (the receiving side's frame reader, which copies each tensor out as its
/// frame arrives, so space comes back in the order it was taken). Positions count bytes since the start and never
/// wrap; a piece that would cross the ring's end starts at its beginning instead. The reader publishes how far it has
/// consumed in the segment's header, which is all the writer needs to know what it may overwrite: no release frames.
/// A writer whose reader has consumed everything starts over at the ring's beginning (<see cref="TryPlace"/>), so the
/// span the pieces cycle through stays what is in flight.
/// A writer that finds no room sleeps on a futex in the header, which the reader wakes when it consumes.
/// Each side keeps its own position, so a peer that scribbles over the header can spoil only its own data.
/// The reader may also keep a piece in place (<see cref="ReadInPlace"/>, a tensor over the ring itself) and give it back
/// later: the consumed position it publishes then stops at the oldest piece still kept.
/// </summary>
internal sealed unsafe partial class SharedRing
{
    private const int Alignment = 64;
    private readonly SharedSegment _segment;
    private readonly long _dataOffset;
    private readonly int _controlOffset;
    private long _position;

    // The last gap (each side's own): the pieces skipped from _gapStart to the lap start _gapEnd, which counts as
    // consumed once everything before it is; the one before, for Rewind.
    private long _gapStart;
    private long _gapEnd;
    private long _previousGapStart;
    private long _previousGapEnd;

    // Reader side: the pieces since the oldest one still kept in place, oldest first (empty when none is kept); the
    // lock also orders publishing the consumed position between the reader and whoever gives a piece back.
    private readonly Queue<RingLease> _kept = new();

    // Reader side: the consumed position last published (under the lease lock).
    private long _published;

    /// <param name="controlOffset">Where the ring's control sits in the segment: u64 consumed position, i32 wake-up counter, i32 writer waiting, u64 read position.</param>
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
    /// <param name="paced">Whether the piece may wait for the reader (a message's first: see <see cref="Paces"/>).</param>
    public bool TryWrite(Tensor tensor, WireEncoding encoding, out long position, bool paced = false)
    {
        var deferred = encoding.IsNarrowed ? null : tensor.StorageOwner as DeferredStorage;
        if (deferred is null) DeferredStorage.Materialize(tensor);
        return TryWrite(deferred is null ? tensor.Bytes : default, deferred is null ? null : tensor, encoding, out position, paced);
    }

    /// <summary>Writes <paramref name="source"/> (tensor bytes) by <paramref name="encoding"/> as <see cref="TryWrite(Tensor, WireEncoding, out long)"/> does.</summary>
    public bool TryWrite(ReadOnlySpan<byte> source, WireEncoding encoding, out long position, bool paced = false) => TryWrite(source, null, encoding, out position, paced);

    /// <param name="deferred">A tensor on deferred storage whose source writes its bytes instead of <paramref name="source"/>.</param>
    private bool TryWrite(ReadOnlySpan<byte> source, Tensor? deferred, WireEncoding encoding, out long position, bool paced)
    {
        int wireBytes = (int)encoding.WireBytes(deferred?.ByteLength ?? source.Length);
        long length = Align(wireBytes);
        byte* data = _segment.Acquire();
        try
        {
            if (!TryPlace(data, length, paced, out position))
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

        Advance(position, length);
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
        pointer = null;
        byte* data = _segment.Acquire();
        // Never paced: a stage computing into the ring would wait inside its run (RingOutputs).
        if (!TryPlace(data, length, paced: false, out position))
        {
            _segment.Release();
            return false;
        }

        pointer = data + _dataOffset + (position % Capacity);
        Advance(position, length);
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
    public void Rewind(long position)
    {
        if (_gapEnd > position)
        {
            // The gap came with the pieces taken back (a run's pieces span less than a lap: at most one gap among them).
            (_gapStart, _gapEnd) = (_previousGapStart, _previousGapEnd);
        }

        _position = position;
    }

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
            PublishRead(data, position + length);
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
                    Wake(data);
                }
            }
        }
        finally
        {
            _segment.Release();
        }

        Advance(position, length);
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

        PublishRead(data, position + length);
        Wake(data);
        Advance(position, length);
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
            long start = Start(position, Align(bytes));
            return start + Align(bytes) - Free(_published, start) <= Capacity / 2;
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
        // A piece starts after the last one, or over at the ring's beginning once everything before it was consumed
        // (nothing kept either: the writer saw the consumed position this side published, which stops at kept pieces).
        bool next = position == Start(_position, length)
            || (_position % Capacity != 0 && position == NextLap(_position) && Volatile.Read(ref _published) == _position);
        if (length > Capacity || !next)
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
        Wake(data);
    }

    /// <summary>Tells the writer the reader has read (copied out or kept) everything before <paramref name="read"/>; <see cref="Wake"/> after it.</summary>
    private void PublishRead(byte* data, long read) => Volatile.Write(ref *(long*)(data + _controlOffset + 16), read);

    /// <summary>Wakes the writer if it sleeps for room (after publishing what changed).</summary>
    private void Wake(byte* data)
    {
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
    public void WaitForReader(long bytes, int microseconds, bool paced = false)
    {
        long length = Align(bytes);
        byte* data = _segment.Acquire();
        try
        {
            int* wake = (int*)(data + _controlOffset + 8);
            int seen = Volatile.Read(ref *wake);
            Volatile.Write(ref wake[1], 1);
            Interlocked.MemoryBarrier();
            if (!TryPlace(data, length, paced, out _))
            {
                Libc.FutexWait(wake, seen, microseconds);
            }
        }
        finally
        {
            _segment.Release();
        }
    }
}
