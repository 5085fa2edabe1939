using System.Net.Sockets;

namespace Tessera.Cluster.Transport;

/// <summary>
/// A byte stream with a small read buffer for headers and control frames; reads of payloads at least half the
/// buffer's size bypass it and go from the stream straight into the caller's memory. Not thread-safe.
/// </summary>
internal sealed class ByteStreamReader
{
    private Stream _stream;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    public ByteStreamReader(Stream stream, int bufferBytes)
    {
        _stream = stream;
        _buffer = new byte[bufferBytes];
    }

    private int Buffered => _end - _start;

    /// <summary>
    /// Waits until at least <paramref name="count"/> bytes (at most the buffer's size) are buffered. Returns false at a
    /// clean end of stream when nothing of a new frame has arrived and <paramref name="allowCleanEnd"/> is set.
    /// </summary>
    public async ValueTask<bool> FillAsync(int count, ReadScope scope, bool allowCleanEnd)
    {
        if (Buffered >= count)
        {
            return true;
        }

        if (_buffer.Length - _start < count)
        {
            // Move what is left to the front so the rest fits behind it.
            _buffer.AsSpan(_start, Buffered).CopyTo(_buffer);
            _end = Buffered;
            _start = 0;
        }

        while (Buffered < count)
        {
            int read = await ReadSomeAsync(_buffer.AsMemory(_end), scope).ConfigureAwait(false);
            if (read == 0)
            {
                if (Buffered == 0 && allowCleanEnd)
                {
                    return false;
                }

                throw new ClusterException(ClusterErrorCode.Malformed, "the connection closed in the middle of a frame");
            }

            _end += read;
        }

        return true;
    }

    /// <summary>Reads from <paramref name="next"/> from now on; at a frame's end, with nothing of the old stream buffered.</summary>
    public void SwitchTo(Stream next)
    {
        if (Buffered != 0)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "the peer sent more over TCP after frames moved to shared memory");
        }

        _stream = next;
    }

    /// <summary>The next <paramref name="count"/> buffered bytes, left in the buffer.</summary>
    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    /// <summary>The next <paramref name="count"/> buffered bytes, consumed (valid until the next read).</summary>
    public ReadOnlySpan<byte> Take(int count)
    {
        var taken = _buffer.AsSpan(_start, count);
        _start += count;
        return taken;
    }

    /// <summary>Fills <paramref name="destination"/> completely: buffered bytes first, then from the stream.</summary>
    public async ValueTask ReadExactlyAsync(Memory<byte> destination, ReadScope scope, string what)
    {
        int fromBuffer = Math.Min(Buffered, destination.Length);
        _buffer.AsMemory(_start, fromBuffer).CopyTo(destination);
        _start += fromBuffer;
        var rest = destination[fromBuffer..];
        while (!rest.IsEmpty)
        {
            int read;
            if (rest.Length >= _buffer.Length / 2)
            {
                read = await ReadSomeAsync(rest, scope).ConfigureAwait(false);
            }
            else
            {
                // A short remainder comes through the buffer so that the next frame's start arrives in the same read.
                _start = _end = 0;
                read = await ReadSomeAsync(_buffer, scope).ConfigureAwait(false);
                _end = read;
                read = Math.Min(read, rest.Length);
                _buffer.AsMemory(0, read).CopyTo(rest);
                _start = read;
            }

            if (read == 0)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"the connection closed in the middle of {what}");
            }

            rest = rest[read..];
        }
    }

    private async ValueTask<int> ReadSomeAsync(Memory<byte> into, ReadScope scope)
    {
        try
        {
            return await _stream.ReadAsync(into, scope.Timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!scope.Cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.Timeout, "the peer sent nothing within the timeout");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Reset, aborted or closed under us: the end of the stream (a truncated frame if mid-frame).
            return 0;
        }
    }
}
