using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Tessera.Serving.Http2;

/// <summary>
/// The sending half of an <see cref="Http2Connection"/>: frames go into the transport's pipe under one lock, from
/// the connection's loop (SETTINGS and PING acknowledgements, WINDOW_UPDATE, RST_STREAM, GOAWAY) and from the calls
/// that answer (on whichever thread finishes them). Keeps the windows the client grants: DATA waits, with the lock
/// released, while the connection's or the stream's window is closed.
/// </summary>
internal sealed class Http2FrameWriter
{
    private const int FlushEvery = 1 << 20;
    private const long MaxWindow = int.MaxValue;

    private readonly PipeWriter _output;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _windows = new();
    private long _connectionWindow = 65_535;
    private long _initialStreamWindow = 65_535;
    private int _maxFrameSize = 16_384;
    private TaskCompletionSource _windowOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    public Http2FrameWriter(PipeWriter output)
    {
        _output = output;
    }

    /// <summary>The window a new stream starts with, as the client's SETTINGS_INITIAL_WINDOW_SIZE last set it.</summary>
    public long InitialStreamWindow
    {
        get
        {
            lock (_windows) return _initialStreamWindow;
        }
    }

    /// <summary>The client's SETTINGS: a new initial window moves every open stream's window by the difference (§6.9.2).</summary>
    public void ApplySettings(uint? initialWindow, uint? maxFrameSize, IEnumerable<Http2Stream> open)
    {
        lock (_windows)
        {
            if (maxFrameSize is { } frame) _maxFrameSize = (int)frame;
            if (initialWindow is { } window)
            {
                long delta = window - _initialStreamWindow;
                _initialStreamWindow = window;
                foreach (var stream in open)
                {
                    stream.SendWindow += delta;
                    if (stream.SendWindow > MaxWindow) throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE takes a stream's window over 2^31-1");
                }
            }

            Opened();
        }
    }

    /// <summary>WINDOW_UPDATE on stream 0.</summary>
    public void ConnectionWindowUpdate(int increment)
    {
        lock (_windows)
        {
            _connectionWindow += increment;
            if (_connectionWindow > MaxWindow) throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "WINDOW_UPDATE takes the connection's window over 2^31-1");
            Opened();
        }
    }

    /// <summary>WINDOW_UPDATE on a stream; false when it takes the window over 2^31-1 (the stream is then reset).</summary>
    public bool ClientStreamWindowUpdate(Http2Stream stream, int increment)
    {
        lock (_windows)
        {
            stream.SendWindow += increment;
            Opened();
            return stream.SendWindow <= MaxWindow;
        }
    }

    /// <summary>Gives back <paramref name="bytes"/> of a stream's receive window (not awaited: the caller is a call's reader).</summary>
    public void GiveBack(Http2Stream stream, int bytes) => _ = WindowUpdateQuietlyAsync(stream, bytes);

    public Task WindowUpdateAsync(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        return WriteFrameAsync(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    public Task GoAwayAsync(int lastStreamId, Http2ErrorCode code, string? debug)
    {
        byte[] text = debug is null ? [] : System.Text.Encoding.UTF8.GetBytes(debug.Length > 200 ? debug[..200] : debug);
        var payload = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)code);
        text.CopyTo(payload, 8);
        return WriteFrameAsync(Http2FrameType.GoAway, 0, 0, payload);
    }

    /// <summary>RST_STREAM, unless this side ended the stream already; ends it for the writer.</summary>
    public async Task ResetAsync(Http2Stream stream, Http2ErrorCode code)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed || (stream.AnswerEnded && code != Http2ErrorCode.NoError)) return;
            stream.AnswerEnded = true;
            var payload = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
            Frame(Http2FrameType.RstStream, 0, stream.Id, payload);
            await _output.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task WriteFrameAsync(Http2FrameType type, byte flags, int streamId, byte[] payload)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed) return;
            Frame(type, flags, streamId, payload);
            await _output.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Sends, in this order and in as few flushes as the windows allow: <paramref name="headers"/> (a header block,
    /// sent only if the stream's headers were not), <paramref name="data"/> as DATA frames, <paramref name="trailers"/>
    /// (a header block that ends the stream; sent after <paramref name="headers"/> in one block when no headers went
    /// out before: a trailers-only answer). Blocks are encoded without the dynamic table, so two of them make one.
    /// Returns false, sending nothing, when the stream was ended already.
    /// </summary>
    public async Task<bool> WriteAsync(Http2Stream stream, byte[] headers, IReadOnlyList<ReadOnlyMemory<byte>>? data, byte[]? trailers, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool held = true;
        try
        {
            if (_closed || stream.AnswerEnded || stream.Aborted.IsCancellationRequested) return false;
            if (!stream.HeadersSent && (data is { Count: > 0 } || trailers is null))
            {
                HeaderBlock(stream.Id, headers, endStream: false);
                stream.HeadersSent = true;
            }

            long unflushed = 0;
            for (int i = 0; data is not null && i < data.Count; i++)
            {
                var rest = data[i];
                while (!rest.IsEmpty)
                {
                    Task? opened = null;
                    int take;
                    lock (_windows)
                    {
                        take = (int)Math.Min(Math.Min(rest.Length, _maxFrameSize), Math.Min(_connectionWindow, stream.SendWindow));
                        if (take > 0)
                        {
                            _connectionWindow -= take;
                            stream.SendWindow -= take;
                        }
                        else
                        {
                            opened = _windowOpened.Task;
                        }
                    }

                    if (opened is not null)
                    {
                        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        unflushed = 0;
                        _gate.Release();
                        held = false;
                        await opened.WaitAsync(cancellationToken).ConfigureAwait(false);
                        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                        held = true;
                        if (_closed || stream.AnswerEnded || stream.Aborted.IsCancellationRequested) return false;
                        continue;
                    }

                    var header = _output.GetSpan(Http2FrameHeader.Size);
                    new Http2FrameHeader(take, Http2FrameType.Data, 0, stream.Id).Write(header);
                    _output.Advance(Http2FrameHeader.Size);
                    _output.Write(rest.Span[..take]);
                    rest = rest[take..];
                    unflushed += take;
                    if (unflushed >= FlushEvery)
                    {
                        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        unflushed = 0;
                    }
                }
            }

            if (trailers is not null)
            {
                HeaderBlock(stream.Id, stream.HeadersSent ? trailers : [.. headers, .. trailers], endStream: true);
                stream.HeadersSent = true;
                stream.AnswerEnded = true;
            }

            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            if (held) _gate.Release();
        }
    }

    /// <summary>Ends the output: whatever is written after is dropped; a waiting DATA writer gives up.</summary>
    public async Task CloseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed) return;
            _closed = true;
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            lock (_windows) Opened();
        }
    }

    private async Task WindowUpdateQuietlyAsync(Http2Stream stream, int bytes)
    {
        try
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_closed || stream.RequestEnded) return; // the client sends nothing more on it
                var payload = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(payload, bytes);
                Frame(Http2FrameType.WindowUpdate, 0, stream.Id, payload);
                await _output.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception)
        {
            // The connection is gone: the loop that owns it ends the streams.
        }
    }

    /// <summary>A header block in a HEADERS frame and as many CONTINUATION frames as the client's frame size needs.</summary>
    private void HeaderBlock(int streamId, byte[] block, bool endStream)
    {
        int frameSize;
        lock (_windows) frameSize = _maxFrameSize;
        int at = 0;
        var type = Http2FrameType.Headers;
        do
        {
            int take = Math.Min(block.Length - at, frameSize);
            byte flags = (byte)((at + take == block.Length ? Http2FrameHeader.EndHeaders : 0) | (type == Http2FrameType.Headers && endStream ? Http2FrameHeader.EndStream : 0));
            Frame(type, flags, streamId, block.AsSpan(at, take));
            at += take;
            type = Http2FrameType.Continuation;
        }
        while (at < block.Length);
    }

    private void Frame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var span = _output.GetSpan(Http2FrameHeader.Size + payload.Length);
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(span);
        payload.CopyTo(span[Http2FrameHeader.Size..]);
        _output.Advance(Http2FrameHeader.Size + payload.Length);
    }

    private void Opened()
    {
        _windowOpened.TrySetResult();
        _windowOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
