using System.Buffers;
using System.IO.Pipelines;

namespace Tessera.Serving.Http2;

/// <summary>
/// The server side of one HTTP/2 connection (RFC 9113) over a transport's pipes: the preface and SETTINGS exchange,
/// frames read on this loop (header blocks decoded with <see cref="HpackDecoder"/>, DATA handed to each stream's
/// call as it arrives, without waiting for whole frames), flow control both ways, PING, RST_STREAM, GOAWAY and a
/// graceful close. Calls start on this loop (<see cref="IHttp2CallFactory"/>) and answer through
/// <see cref="Http2FrameWriter"/> from wherever they finish. A protocol violation is a connection error (GOAWAY with
/// its code, then the connection closes) or a stream error (RST_STREAM), never an exception out of
/// <see cref="RunAsync"/>.
/// </summary>
internal sealed partial class Http2Connection
{
    private const int MaxControlFrame = 16_384;
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly PipeReader _input;
    private readonly Http2FrameWriter _writer;
    private readonly IHttp2CallFactory _calls;
    private readonly Http2Limits _limits;
    private readonly HpackDecoder _hpack = new(4096);
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private int _lastStreamId;
    private long _receiveWindow;
    private int _unacknowledged;
    private bool _prefaceRead;
    private bool _settingsRead;
    private volatile bool _closing;

    // A DATA frame being read as it arrives, or another frame's payload being skipped.
    private bool _inData;
    private Http2Stream? _dataStream;
    private int _dataLeft;
    private int _paddingLeft;
    private bool _dataEndsStream;
    private int _skipLeft;

    public Http2Connection(IDuplexPipe transport, IHttp2CallFactory calls, Http2Limits limits)
    {
        _input = transport.Input;
        _writer = new Http2FrameWriter(transport.Output);
        _calls = calls;
        _limits = limits;
        _receiveWindow = limits.ConnectionWindow;
        _block = new byte[1024];
    }

    /// <summary>Serves the connection until the client closes it, a connection error, or <paramref name="closeRequested"/> and the open calls end.</summary>
    public async Task RunAsync(CancellationToken closeRequested)
    {
        using var registration = closeRequested.Register(() =>
        {
            _closing = true;
            _input.CancelPendingRead();
        });
        bool goAwaySent = false;
        try
        {
            await _writer.WriteFrameAsync(Http2FrameType.Settings, 0, 0, Settings()).ConfigureAwait(false);
            await _writer.WindowUpdateAsync(0, _limits.ConnectionWindow - 65_535).ConfigureAwait(false);
            while (true)
            {
                var result = await ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    await ReadFramesAsync(buffer).ConfigureAwait(false);
                }
                finally
                {
                    _input.AdvanceTo(_consumed, buffer.End);
                }

                if (_closing)
                {
                    if (!goAwaySent)
                    {
                        goAwaySent = true;
                        await _writer.GoAwayAsync(_lastStreamId, Http2ErrorCode.NoError, null).ConfigureAwait(false);
                    }

                    if (Sweep() == 0) break;
                }

                if (result.IsCompleted)
                {
                    if (_prefaceRead && !_inData && _skipLeft == 0 && _blockStreamId == 0 && buffer.Slice(_consumed).IsEmpty) break;
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the connection ended inside a frame");
                }
            }
        }
        catch (Http2ConnectionException e)
        {
            await QuietlyAsync(() => _writer.GoAwayAsync(_lastStreamId, e.Code, e.Message)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The transport went away (reset, aborted by the server's stop): nothing can be sent on it.
        }
        finally
        {
            foreach (var stream in _streams.Values) Abort(stream);
            await QuietlyAsync(_writer.CloseAsync).ConfigureAwait(false);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private SequencePosition _consumed;

    /// <summary>The next read; once closing, one that wakes every 50 ms to see whether the open calls ended.</summary>
    private async ValueTask<ReadResult> ReadAsync()
    {
        if (!_closing)
        {
            return await _input.ReadAsync().ConfigureAwait(false);
        }

        using var wake = new CancellationTokenSource(50);
        try
        {
            return await _input.ReadAsync(wake.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wake.IsCancellationRequested)
        {
            return new ReadResult(default, isCanceled: true, isCompleted: false);
        }
    }

    /// <summary>Reads what <paramref name="buffer"/> holds of frames; leaves in <see cref="_consumed"/> where the next read starts.</summary>
    private async Task ReadFramesAsync(ReadOnlySequence<byte> buffer)
    {
        _consumed = buffer.Start;
        if (!_prefaceRead)
        {
            int have = (int)Math.Min(buffer.Length, Preface.Length);
            Span<byte> start = stackalloc byte[Preface.Length];
            buffer.Slice(0, have).CopyTo(start);
            if (!start[..have].SequenceEqual(Preface[..have]))
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the connection does not start with HTTP/2's client preface");
            }

            if (have < Preface.Length)
            {
                _consumed = buffer.Start;
                return;
            }

            buffer = buffer.Slice(Preface.Length);
            _prefaceRead = true;
        }

        while (true)
        {
            if (_inData)
            {
                buffer = ReadData(buffer);
                if (_dataLeft > 0 || _paddingLeft > 0) break;
                _inData = false;
                await EndDataAsync().ConfigureAwait(false);
                continue;
            }

            if (_skipLeft > 0)
            {
                int skip = (int)Math.Min(_skipLeft, buffer.Length);
                buffer = buffer.Slice(skip);
                _skipLeft -= skip;
                if (_skipLeft > 0) break;
                continue;
            }

            if (buffer.Length < Http2FrameHeader.Size) break;
            var header = Http2FrameHeader.Read(buffer);
            if (header.Length > _limits.MaxFrameSize)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a frame of {header.Length} octets, over SETTINGS_MAX_FRAME_SIZE {_limits.MaxFrameSize}");
            }

            if (!_settingsRead && header.Type != Http2FrameType.Settings)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "the client's first frame is not SETTINGS");
            }

            if (_blockStreamId != 0 && header.Type != Http2FrameType.Continuation)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame inside a header block (CONTINUATION expected)");
            }

            if (header.Type == Http2FrameType.Data)
            {
                int needed = Http2FrameHeader.Size + (header.Has(Http2FrameHeader.Padded) ? 1 : 0);
                if (buffer.Length < needed) break;
                int padding = header.Has(Http2FrameHeader.Padded) ? buffer.Slice(Http2FrameHeader.Size, 1).FirstSpan[0] : -1;
                buffer = buffer.Slice(needed);
                await BeginDataAsync(header, padding).ConfigureAwait(false);
                continue;
            }

            if (header.Type > Http2FrameType.Continuation)
            {
                _skipLeft = header.Length; // unknown frame types are ignored (§5.5)
                buffer = buffer.Slice(Http2FrameHeader.Size);
                continue;
            }

            int limit = header.Type is Http2FrameType.Headers or Http2FrameType.Continuation ? _limits.MaxHeaderBlockBytes : MaxControlFrame;
            if (header.Length > limit)
            {
                throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, $"a {header.Type} frame of {header.Length} octets, over this server's {limit}");
            }

            if (buffer.Length < Http2FrameHeader.Size + header.Length) break;
            var payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
            await FrameAsync(header, payload).ConfigureAwait(false);
            buffer = buffer.Slice(payload.End);
        }

        _consumed = buffer.Start;
    }

    private byte[] Settings()
    {
        (ushort Id, uint Value)[] settings =
        [
            (2, 0), // SETTINGS_ENABLE_PUSH
            (3, (uint)_limits.MaxConcurrentStreams),
            (4, (uint)_limits.StreamWindow),
            (5, (uint)_limits.MaxFrameSize),
            (6, (uint)_limits.MaxHeaderListSize),
        ];
        var payload = new byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6 * i), settings[i].Id);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(6 * i + 2), settings[i].Value);
        }

        return payload;
    }

    /// <summary>Forgets streams this side ended; returns how many calls are still open.</summary>
    private int Sweep()
    {
        int open = 0;
        foreach (var (id, stream) in _streams)
        {
            if (stream.AnswerEnded || stream.Aborted.IsCancellationRequested)
            {
                _streams.Remove(id);
            }
            else
            {
                open++;
            }
        }

        return open;
    }

    private static void Abort(Http2Stream stream)
    {
        stream.RequestEnded = true;
        try
        {
            stream.Aborted.Cancel();
        }
        catch (AggregateException)
        {
            // A callback of the call's failed; the call is over either way.
        }
    }

    private static async Task QuietlyAsync(Func<Task> send)
    {
        try
        {
            await send().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The transport is gone already.
        }
    }
}
