namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>Where the writer puts its pieces, and how much room the reader has left it.</summary>
internal sealed unsafe partial class SharedRing
{
    /// <summary>
    /// Writer: where a piece of <paramref name="length"/> (aligned) bytes goes, and whether it overwrites only consumed
    /// bytes. Normally after the last piece (at the ring's beginning when it would cross its end); but when the reader
    /// has consumed everything written, at the ring's beginning (the next lap's start) wherever the last piece ended.
    /// So the span the pieces cycle through is what is in flight at most, not the ring's size: on this project's AMD
    /// EPYC Zen 4 (32 MiB L3), `tessera bench-transport` moved 4 MiB tensors through a 32 MiB ring taken in order at
    /// 8-11 GB/s, through 12 and 8 MiB rings at 23-26 and 28-32 GB/s.
    /// <para>
    /// Why starting over never makes a piece wait: it happens only when nothing written is unconsumed (nor kept), and
    /// then the gap it skips counts as consumed (<see cref="Free"/>). Right after it the ring is as it would be had
    /// the writer written nothing yet since the reader caught up: every byte is free, so this piece and every later
    /// one find exactly the room they would find in a ring that was just emptied, and wait only for pieces written
    /// after it (as in any ring). The earlier experiment that started over whenever the bytes at the beginning were
    /// consumed (12f0c25) broke this: the pieces after it had to follow it over bytes still unconsumed from the lap
    /// before (a run's first input kept in place, for one), which taking the ring in order would have stepped past.
    /// </para>
    /// </summary>
    private bool TryPlace(byte* data, long length, bool paced, out long position)
    {
        long consumed = Volatile.Read(ref *(long*)(data + _controlOffset));
        position = consumed == _position && _position % Capacity != 0 ? NextLap(_position) : Start(_position, length);
        return position + length - Free(consumed, position) <= Capacity && !(paced && Paces(data, consumed, position, length));
    }

    /// <summary>
    /// Whether a piece that may wait for the reader (the first of a message, whose earlier frames are all out) waits
    /// for it to read everything written before going on past the soft end (a quarter of the ring, or three such
    /// pieces when that is more), so that it can start over at the ring's beginning (<see cref="TryPlace"/>): a writer
    /// faster than its reader would otherwise run a whole ring ahead of it, and the bytes the reader copies out would
    /// have been written a ring ago, gone from the caches. It waits for the read position, not the consumed one: the
    /// reader reads the frames already out whatever this writer does (as it would drain a TCP window), while it may
    /// keep a piece for as long as its caller holds it. And only while the reader keeps nothing: a reader that keeps
    /// pieces (a worker computing from its inputs in place) may keep the rest too, so waiting would not let the writer
    /// start over, and a stage's frame thread reads its next RUN only once the run it computes is over, so the writer
    /// would wait for that run (and a stage computing its outputs into the ring, inside its own run). Pacing only a
    /// writer far ahead (half the soft end unread) was tried: bench-transport's 4 MiB tensors then went on in order
    /// past the soft end with the reader a piece behind, and cost the CPU per GB of taking the whole ring in order
    /// (136 ms against 80 paced this way, 3 pairs at load 4-5).
    /// </summary>
    private bool Paces(byte* data, long consumed, long position, long length)
    {
        long softEnd = Math.Max(Capacity / 4, 3 * length);
        long read = Volatile.Read(ref *(long*)(data + _controlOffset + 16));
        return position % Capacity + length > softEnd && read != _position && read == consumed;
    }

    /// <summary>
    /// Where the free space before a piece at <paramref name="start"/> (the next one) begins in position terms, from
    /// the <paramref name="consumed"/> position: a gap the pieces skipped (to start over) counts as consumed once
    /// everything before it is, which the position alone would not show.
    /// </summary>
    private long Free(long consumed, long start) =>
        consumed == _position ? start : consumed == _gapStart ? _gapEnd : consumed;

    /// <summary>Moves this side's position past the piece at <paramref name="position"/>, noting the gap before it if it started over.</summary>
    private void Advance(long position, long length)
    {
        if (position > _position)
        {
            (_previousGapStart, _previousGapEnd) = (_gapStart, _gapEnd);
            (_gapStart, _gapEnd) = (_position, position);
        }

        _position = position + length;
    }

    /// <summary>The start of the lap after the one <paramref name="position"/> is in.</summary>
    private long NextLap(long position) => position - (position % Capacity) + Capacity;

    private long Start(long position, long length)
    {
        long offset = position % Capacity;
        return offset + length > Capacity ? position + Capacity - offset : position;
    }

    private static long Align(long bytes) => (bytes + Alignment - 1) & ~(long)(Alignment - 1);
}
