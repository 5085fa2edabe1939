using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// A connection's byte stream once both ends share memory: reads from the incoming <see cref="FrameRing"/>, writes
/// into the outgoing one. A read that finds bytes completes at once; one that finds none is finished by this
/// stream's own thread, which sleeps on the ring's futex and runs the reader's continuation itself when the bytes
/// arrive (as the socket engine's thread did for TCP, without the epoll wait, recv calls and TCP stack between). A
/// write copies into the ring and wakes that thread only when it sleeps; with no room it sleeps until the reader
/// consumes, as TCP's window would hold it. The TCP connection stays open beside it: when it ends (the peer died or
/// closed), <see cref="End"/> ends pending and later reads and writes, as the socket's end did.
/// </summary>
internal sealed class FrameRingStream : Stream, IValueTaskSource<int>
{
    // Sleeps are bounded so that a lost wake-up (a peer scribbling over the futex word) costs a pause, never a hang.
    private const int SleepMicroseconds = 1_000_000;
    private const int RoomSleepMicroseconds = 10_000;

    private readonly FrameRing _incoming;
    private readonly FrameRing _outgoing;
    private readonly TimeSpan _writeTimeout;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<int> _read;
    private Memory<byte> _readInto;
    private bool _readPending;
    private CancellationToken _readCancellation;
    private CancellationTokenRegistration _readRegistration;
    private Thread? _thread;
    private volatile bool _closed;

    [ThreadStatic]
    private static bool t_readsFrames;

    public FrameRingStream(FrameRing incoming, FrameRing outgoing, TimeSpan writeTimeout)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        _writeTimeout = writeTimeout;
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Whether the calling thread is one stream's own reader thread (which serves that connection alone, unlike the socket engine's).</summary>
    public static bool CurrentThreadReadsFrames => t_readsFrames;

    /// <summary>Ends the stream: a pending read returns 0 (the end), later writes throw; wakes this stream's thread to see it.</summary>
    public void End()
    {
        _closed = true;
        try
        {
            _incoming.Wake();
        }
        catch (ClusterException)
        {
            // The mapping is gone already: the thread finds that out by itself.
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (buffer.IsEmpty)
        {
            return ValueTask.FromResult(0);
        }

        // What the peer wrote before it closed is still read, as TCP delivers a connection's last bytes before its end.
        int read = TryRead(buffer.Span);
        if (read != 0 || _closed)
        {
            return ValueTask.FromResult(read);
        }

        // Registered before the read is published: this stream's thread may finish it (and dispose of this) at once.
        var registration = cancellationToken.UnsafeRegister(static s => ((FrameRingStream)s!).WakeThread(), this);
        lock (_lock)
        {
            _read.Reset();
            _readInto = buffer;
            _readCancellation = cancellationToken;
            _readRegistration = registration;
            _readPending = true;
        }

        if (_thread is null)
        {
            _thread = new Thread(WaitForReads) { IsBackground = true, Name = "tessera frames" };
            _thread.Start();
        }
        else if (Thread.CurrentThread != _thread)
        {
            // This stream's thread may sleep with no read to serve: it looks again once woken.
            WakeThread();
        }

        return new ValueTask<int>(this, _read.Version);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Copies <paramref name="buffer"/> into the ring, sleeping while it is full, for at most the write timeout.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long deadline = Environment.TickCount64 + (long)_writeTimeout.TotalMilliseconds;
        while (!buffer.IsEmpty)
        {
            int written = TryWrite(buffer);
            buffer = buffer[written..];
            if (written == 0)
            {
                if (Environment.TickCount64 > deadline)
                {
                    throw new IOException("the peer did not take our data within the timeout", new SocketException((int)SocketError.TimedOut));
                }

                _outgoing.SleepUntilRoom(RoomSleepMicroseconds);
            }
        }
    }

    /// <summary>As <see cref="Write(ReadOnlySpan{byte})"/>; a full ring is waited for on a pool thread, so the caller's thread (which may be this process's reader) is not held.</summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int written = TryWrite(buffer.Span);
            buffer = buffer[written..];
            if (written == 0)
            {
                await Task.Run(() => _outgoing.SleepUntilRoom(RoomSleepMicroseconds), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        End();
        base.Dispose(disposing);
    }

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    /// <summary>This stream's thread: serves the pending read when bytes arrive, it is cancelled or the stream ends.</summary>
    private void WaitForReads()
    {
        t_readsFrames = true;
        while (true)
        {
            int seen;
            try
            {
                seen = _incoming.Doorbell();
            }
            catch (ClusterException)
            {
                _closed = true;
                seen = 0;
            }

            bool pending;
            lock (_lock)
            {
                pending = _readPending;
            }

            if (pending && TryCompleteRead())
            {
                continue;
            }

            if (_closed)
            {
                if (!pending)
                {
                    return;
                }

                continue;
            }

            try
            {
                if (pending)
                {
                    _incoming.SleepUntilWritten(seen, SleepMicroseconds);
                }
                else
                {
                    // No read to serve: the writer need not ring (its flag stays down); the next read wakes this thread.
                    _incoming.SleepUntilWoken(seen, SleepMicroseconds);
                }
            }
            catch (ClusterException)
            {
                _closed = true;
            }
        }
    }

    /// <summary>Finishes the pending read if there is anything to finish it with; its continuation runs here.</summary>
    private bool TryCompleteRead()
    {
        int read = 0;
        Exception? error = null;
        if (_readCancellation.IsCancellationRequested)
        {
            error = new OperationCanceledException(_readCancellation);
        }
        else
        {
            try
            {
                read = TryRead(_readInto.Span);
            }
            catch (IOException e)
            {
                error = e;
            }

            if (read == 0 && error is null && !_closed)
            {
                return false;
            }
        }

        CancellationTokenRegistration registration;
        lock (_lock)
        {
            registration = _readRegistration;
            _readPending = false;
            _readInto = default;
        }

        registration.Dispose();

        if (error is null)
        {
            _read.SetResult(read);
        }
        else
        {
            _read.SetException(error);
        }

        return true;
    }

    private void WakeThread()
    {
        try
        {
            _incoming.Wake();
        }
        catch (ClusterException)
        {
        }
    }

    private int TryRead(Span<byte> into)
    {
        try
        {
            return _incoming.TryRead(into);
        }
        catch (ClusterException)
        {
            // The mapping is gone: the connection was disposed under us, which reads as its end.
            _closed = true;
            return 0;
        }
    }

    private int TryWrite(ReadOnlySpan<byte> bytes)
    {
        if (_closed)
        {
            throw new IOException("the connection is closed");
        }

        try
        {
            return _outgoing.TryWrite(bytes);
        }
        catch (ClusterException e)
        {
            throw new IOException("the connection is closed", e);
        }
    }
}
