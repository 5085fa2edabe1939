using Tessera.Cluster.Native;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// One direction of a connection's frames in its <see cref="SharedSegment"/>: a byte stream with one writer and one
/// reader, so frames travel between two processes of one host without the loopback TCP stack (a send, the
/// receiver's epoll wake-up, a recv per read). Each side keeps its own count of bytes written or consumed and
/// publishes it in the segment's header; a reader with nothing to read raises a flag and sleeps on a futex (the
/// doorbell), which the writer rings only when the flag is up, and a writer with no room sleeps on another that the
/// reader rings. A peer that scribbles over the header can only make the counts disagree, which both sides check.
/// </summary>
internal sealed unsafe class FrameRing
{
    /// <summary>Each direction's bytes: a message's control frame, its tensor frames' headers and small tensors fit many times over.</summary>
    public const int Capacity = 256 * 1024;

    private readonly SharedSegment _segment;
    private readonly long _dataOffset;

    // Writer's cache line: u64 written | i32 doorbell (futex) | i32 reader sleeping. Reader's: u64 consumed | i32 room
    // (futex) | i32 writer sleeping.
    private readonly int _writerLine;
    private readonly int _readerLine;
    private long _position;

    public FrameRing(SharedSegment segment, long dataOffset, int writerLine, int readerLine)
    {
        _segment = segment;
        _dataOffset = dataOffset;
        _writerLine = writerLine;
        _readerLine = readerLine;
    }

    /// <summary>
    /// For either side: maps the ring's pages into this process now (as <see cref="SharedRing.Populated"/> does for the
    /// tensor rings). Left to fault in, a pipeline's small frames (a RUN and its tensors' headers, a few hundred bytes)
    /// take seconds to pass once over the 64 pages, so each side's first lap kept faulting through a whole
    /// bench-cluster round: 28 of the 3-stage GPT pipeline workers' 9238 samples (perf, load 21) were page faults
    /// under <see cref="Copy"/>.
    /// </summary>
    public FrameRing Populated()
    {
        _segment.PopulateForWriting(_dataOffset, Capacity);
        return this;
    }

    /// <summary>Writer: copies as much of <paramref name="bytes"/> as there is room for, publishes it and rings the doorbell; 0 when full.</summary>
    public int TryWrite(ReadOnlySpan<byte> bytes)
    {
        byte* data = _segment.Acquire();
        try
        {
            long consumed = Volatile.Read(ref *(long*)(data + _readerLine));
            long used = _position - consumed;
            if (used < 0 || used > Capacity)
            {
                throw Corrupt();
            }

            int count = (int)Math.Min(bytes.Length, Capacity - used);
            if (count == 0)
            {
                return 0;
            }

            Copy(bytes[..count], data + _dataOffset, _position);
            _position += count;
            Volatile.Write(ref *(long*)(data + _writerLine), _position);
            // The fence orders the count before the flag's read: a reader that raised its flag and then found nothing is rung.
            Interlocked.MemoryBarrier();
            Ring(data + _writerLine + 8);
            return count;
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>Reader: copies what has arrived into <paramref name="into"/> (as much as fits), gives the room back; 0 when nothing waits.</summary>
    public int TryRead(Span<byte> into)
    {
        byte* data = _segment.Acquire();
        try
        {
            long written = Volatile.Read(ref *(long*)(data + _writerLine));
            long waiting = written - _position;
            if (waiting < 0 || waiting > Capacity)
            {
                throw Corrupt();
            }

            int count = (int)Math.Min(into.Length, waiting);
            if (count == 0)
            {
                return 0;
            }

            Copy(data + _dataOffset, _position, into[..count]);
            _position += count;
            Volatile.Write(ref *(long*)(data + _readerLine), _position);
            Interlocked.MemoryBarrier();
            Ring(data + _readerLine + 8);
            return count;
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>The reader's futex word as it is now: pass it to <see cref="SleepUntilWritten"/> after checking for data.</summary>
    public int Doorbell()
    {
        byte* data = _segment.Acquire();
        try
        {
            return Volatile.Read(ref *(int*)(data + _writerLine + 8));
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>
    /// Reader: sleeps until the writer publishes bytes, <see cref="Wake"/> is called, or <paramref name="microseconds"/>
    /// pass; <paramref name="seen"/> is the <see cref="Doorbell"/> read before the caller last looked for work, so
    /// anything that rang it since returns at once.
    /// </summary>
    public void SleepUntilWritten(int seen, int microseconds) => Sleep(_writerLine, seen, microseconds, forRoom: false);

    /// <summary>Reader with nothing to read for now: sleeps until <see cref="Wake"/> (the writer does not ring: the flag stays down).</summary>
    public void SleepUntilWoken(int seen, int microseconds)
    {
        byte* data = _segment.Acquire();
        try
        {
            Libc.FutexWait((int*)(data + _writerLine + 8), seen, microseconds);
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>Writer: sleeps until the reader consumes something or <paramref name="microseconds"/> pass (after a full <see cref="TryWrite"/>).</summary>
    public void SleepUntilRoom(int microseconds)
    {
        byte* data = _segment.Acquire();
        try
        {
            int seen = Volatile.Read(ref *(int*)(data + _readerLine + 8));
            Sleep(_readerLine, seen, microseconds, forRoom: true);
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>Wakes this side's reader from <see cref="SleepUntilWritten"/> (the connection closed, a read was cancelled or queued).</summary>
    public void Wake()
    {
        byte* data = _segment.Acquire();
        try
        {
            int* bell = (int*)(data + _writerLine + 8);
            Interlocked.Increment(ref *bell);
            Libc.FutexWake(bell);
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>Raises the sleeping flag next to the futex word at <paramref name="line"/>, looks again, then waits.</summary>
    private void Sleep(int line, int seen, int microseconds, bool forRoom)
    {
        byte* data = _segment.Acquire();
        try
        {
            int* bell = (int*)(data + line + 8);
            Volatile.Write(ref bell[1], 1);
            Interlocked.MemoryBarrier();
            bool nothing = forRoom
                ? _position - Volatile.Read(ref *(long*)(data + _readerLine)) >= Capacity
                : Volatile.Read(ref *(long*)(data + _writerLine)) == _position;
            if (nothing)
            {
                Libc.FutexWait(bell, seen, microseconds);
            }

            Volatile.Write(ref bell[1], 0);
        }
        finally
        {
            _segment.Release();
        }
    }

    /// <summary>Wakes the other side when its flag next to <paramref name="bell"/> says it sleeps (lowering the flag: one wake per sleep).</summary>
    private static void Ring(byte* bell)
    {
        int* word = (int*)bell;
        if (Volatile.Read(ref word[1]) != 0)
        {
            Volatile.Write(ref word[1], 0);
            Interlocked.Increment(ref *word);
            Libc.FutexWake(word);
        }
    }

    private static void Copy(ReadOnlySpan<byte> from, byte* ring, long position)
    {
        int offset = (int)(position % Capacity);
        int first = Math.Min(from.Length, Capacity - offset);
        from[..first].CopyTo(new Span<byte>(ring + offset, first));
        from[first..].CopyTo(new Span<byte>(ring, from.Length - first));
    }

    private static void Copy(byte* ring, long position, Span<byte> into)
    {
        int offset = (int)(position % Capacity);
        int first = Math.Min(into.Length, Capacity - offset);
        new ReadOnlySpan<byte>(ring + offset, first).CopyTo(into);
        new ReadOnlySpan<byte>(ring, into.Length - first).CopyTo(into[first..]);
    }

    private static IOException Corrupt() => new("the peer's shared-memory frame counts disagree (a corrupted segment)");
}
