namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// One direction of a <see cref="SharedSegment"/>: a ring of tensor bytes with one writer (the sending side's frame
/// writer, under its lock) and one reader (the receiving side's frame reader, which copies each tensor out as its
/// frame arrives, so space comes back in the order it was taken). Positions count bytes since the start and never
/// wrap; a piece that would cross the ring's end starts at its beginning instead. The reader publishes how far it has
/// consumed in the segment's header, which is all the writer needs to know what it may overwrite: no release frames.
/// Each side keeps its own position, so a peer that scribbles over the header can spoil only its own data.
/// </summary>
internal sealed unsafe class SharedRing
{
    private const int Alignment = 64;
    private readonly SharedSegment _segment;
    private readonly long _dataOffset;
    private readonly int _consumedOffset;
    private long _position;

    public SharedRing(SharedSegment segment, long dataOffset, long capacity, int consumedOffset)
    {
        _segment = segment;
        _dataOffset = dataOffset;
        Capacity = capacity;
        _consumedOffset = consumedOffset;
    }

    public long Capacity { get; }

    /// <summary>
    /// Copies <paramref name="source"/> into free space and returns its position for the frame; false when it does not
    /// fit now (the reader is behind, or the tensor is larger than the ring), in which case the caller sends it inline.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> source, out long position)
    {
        long length = Align(source.Length);
        position = 0;
        if (length > Capacity)
        {
            return false;
        }

        position = Start(_position, length);
        byte* data = _segment.Acquire();
        try
        {
            long consumed = Volatile.Read(ref *(long*)(data + _consumedOffset));
            if (position + length - consumed > Capacity)
            {
                return false;
            }

            source.CopyTo(new Span<byte>(data + _dataOffset + (position % Capacity), source.Length));
        }
        finally
        {
            _segment.Release();
        }

        _position = position + length;
        return true;
    }

    /// <summary>
    /// Copies the piece at <paramref name="position"/> into <paramref name="destination"/> and gives its space back.
    /// A position other than where the writer puts the next piece is <see cref="ClusterErrorCode.Malformed"/>.
    /// </summary>
    public void Read(long position, Span<byte> destination)
    {
        long length = Align(destination.Length);
        if (length > Capacity || position != Start(_position, length))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a shared-memory tensor at position {position} of {destination.Length} bytes is not the next piece of the ring");
        }

        byte* data = _segment.Acquire();
        try
        {
            new ReadOnlySpan<byte>(data + _dataOffset + (position % Capacity), destination.Length).CopyTo(destination);
            Volatile.Write(ref *(long*)(data + _consumedOffset), position + length);
        }
        finally
        {
            _segment.Release();
        }

        _position = position + length;
    }

    private long Start(long position, long length)
    {
        long offset = position % Capacity;
        return offset + length > Capacity ? position + Capacity - offset : position;
    }

    private static long Align(long bytes) => (bytes + Alignment - 1) & ~(long)(Alignment - 1);
}
