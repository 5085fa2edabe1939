using System.Buffers;
using System.Buffers.Binary;

namespace Tessera.Serving.Http2;

internal sealed partial class Http2Connection
{
    // A header block being received: HEADERS, then CONTINUATION frames up to END_HEADERS.
    private byte[] _block;
    private int _blockLength;
    private int _blockStreamId;
    private bool _blockEndsStream;
    private bool _blockOpens;

    private Task FrameAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload) => header.Type switch
    {
        Http2FrameType.Headers => HeadersAsync(header, payload),
        Http2FrameType.Continuation => ContinuationAsync(header, payload),
        Http2FrameType.Priority => PriorityAsync(header),
        Http2FrameType.RstStream => RstStream(header, payload),
        Http2FrameType.Settings => SettingsAsync(header, payload),
        Http2FrameType.Ping => PingAsync(header, payload),
        Http2FrameType.GoAway => GoAway(header),
        Http2FrameType.WindowUpdate => WindowUpdateAsync(header, payload),
        _ => throw Error(Http2ErrorCode.ProtocolError, $"a client sent {header.Type}"), // PUSH_PROMISE
    };

    private Task HeadersAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0 || header.StreamId % 2 == 0) throw Error(Http2ErrorCode.ProtocolError, $"HEADERS on stream {header.StreamId} (client streams are odd)");
        int skip = header.Has(Http2FrameHeader.Priority) ? 5 : 0;
        int padding = 0;
        if (header.Has(Http2FrameHeader.Padded))
        {
            if (payload.Length < 1) throw Error(Http2ErrorCode.FrameSizeError, "a padded HEADERS frame without its pad length");
            padding = payload.FirstSpan[0];
            skip++;
        }

        if (skip + padding > payload.Length) throw Error(Http2ErrorCode.ProtocolError, "HEADERS padding longer than the frame");
        _blockOpens = header.StreamId > _lastStreamId;
        if (_blockOpens) _lastStreamId = header.StreamId;

        _blockStreamId = header.StreamId;
        _blockLength = 0;
        _blockEndsStream = header.Has(Http2FrameHeader.EndStream);
        Append(payload.Slice(skip, payload.Length - skip - padding));
        return header.Has(Http2FrameHeader.EndHeaders) ? EndBlockAsync() : Task.CompletedTask;
    }

    private Task ContinuationAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_blockStreamId == 0 || header.StreamId != _blockStreamId) throw Error(Http2ErrorCode.ProtocolError, "CONTINUATION not following a header block of its stream");
        Append(payload);
        return header.Has(Http2FrameHeader.EndHeaders) ? EndBlockAsync() : Task.CompletedTask;
    }

    private void Append(ReadOnlySequence<byte> fragment)
    {
        if (_blockLength + fragment.Length > _limits.MaxHeaderBlockBytes)
        {
            throw Error(Http2ErrorCode.EnhanceYourCalm, $"a header block over this server's {_limits.MaxHeaderBlockBytes} octets");
        }

        if (_blockLength + fragment.Length > _block.Length) Array.Resize(ref _block, Math.Max(2 * _block.Length, _blockLength + (int)fragment.Length));
        fragment.CopyTo(_block.AsSpan(_blockLength));
        _blockLength += (int)fragment.Length;
    }

    private async Task EndBlockAsync()
    {
        int id = _blockStreamId;
        _blockStreamId = 0;
        var fields = new List<KeyValuePair<string, string>>();
        bool complete;
        try
        {
            complete = _hpack.Decode(_block.AsSpan(0, _blockLength), fields, _limits.MaxHeaderListSize);
        }
        catch (HpackException e)
        {
            throw Error(Http2ErrorCode.CompressionError, e.Message);
        }

        if (!_blockOpens)
        {
            // Trailers of a request (its fields are not read), or a block on a stream that ended: HPACK's table is kept, nothing else.
            if (_streams.TryGetValue(id, out var known) && !known.RequestEnded)
            {
                if (!_blockEndsStream) await ResetAsync(known, Http2ErrorCode.ProtocolError).ConfigureAwait(false);
                else EndRequest(known);
            }

            return;
        }

        var stream = new Http2Stream(id, _writer, _writer.InitialStreamWindow, _limits.StreamWindow);
        if (_closing || Sweep() >= _limits.MaxConcurrentStreams)
        {
            stream.RequestEnded = true;
            await _writer.ResetAsync(stream, Http2ErrorCode.RefusedStream).ConfigureAwait(false);
            return;
        }

        stream.Fields.AddRange(fields);
        _streams.Add(id, stream);
        if (!complete)
        {
            stream.RequestEnded = _blockEndsStream;
            stream.TryEnd();
            await _writer.WriteAsync(stream, TooLarge, null, [], stream.Aborted.Token).ConfigureAwait(false);
            if (!_blockEndsStream) await ResetAsync(stream, Http2ErrorCode.NoError).ConfigureAwait(false);
            return;
        }

        if (!WellFormed(fields))
        {
            await ResetAsync(stream, Http2ErrorCode.ProtocolError).ConfigureAwait(false);
            return;
        }

        stream.RequestEnded = _blockEndsStream;
        stream.Call = _calls.Start(stream, _writer, _blockEndsStream);
    }

    /// <summary>An answer to a request whose fields are over SETTINGS_MAX_HEADER_LIST_SIZE: 431 (RFC 9113 §10.5.1).</summary>
    private static readonly byte[] TooLarge = [0x08, 0x03, (byte)'4', (byte)'3', (byte)'1'];

    /// <summary>A request's fields as §8.3.1 wants them: :method, :scheme and :path once each, pseudo-fields first, names lowercase.</summary>
    private static bool WellFormed(List<KeyValuePair<string, string>> fields)
    {
        int method = 0, scheme = 0, path = 0;
        bool regular = false;
        foreach (var (name, value) in fields)
        {
            if (name.Length == 0 || name.AsSpan().ContainsAnyInRange('A', 'Z')) return false;
            if (name[0] != ':')
            {
                regular = true;
                continue;
            }

            if (regular) return false;
            switch (name)
            {
                case ":method": method++; break;
                case ":scheme": scheme++; break;
                case ":path": path += value.Length > 0 ? 1 : 2; break;
                case ":authority": break;
                default: return false;
            }
        }

        return method == 1 && scheme == 1 && path == 1;
    }

    private Task PriorityAsync(Http2FrameHeader header)
    {
        if (header.StreamId == 0) throw Error(Http2ErrorCode.ProtocolError, "PRIORITY on stream 0");
        return header.Length == 5 || !_streams.TryGetValue(header.StreamId, out var stream) ? Task.CompletedTask : ResetAsync(stream, Http2ErrorCode.FrameSizeError);
    }

    private Task RstStream(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4) throw Error(Http2ErrorCode.FrameSizeError, "RST_STREAM of a length other than 4");
        if (header.StreamId == 0 || header.StreamId > _lastStreamId) throw Error(Http2ErrorCode.ProtocolError, $"RST_STREAM on stream {header.StreamId}, which is idle");
        if (_streams.Remove(header.StreamId, out var stream)) Abort(stream);
        return Task.CompletedTask;
    }

    private Task SettingsAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0) throw Error(Http2ErrorCode.ProtocolError, "SETTINGS on a stream");
        if (header.Has(Http2FrameHeader.Ack))
        {
            if (header.Length != 0) throw Error(Http2ErrorCode.FrameSizeError, "a SETTINGS acknowledgement with a payload");
            return Task.CompletedTask;
        }

        if (header.Length % 6 != 0) throw Error(Http2ErrorCode.FrameSizeError, "SETTINGS of a length that is not a multiple of 6");
        _settingsRead = true;
        Span<byte> octets = stackalloc byte[header.Length];
        payload.CopyTo(octets);
        uint? window = null, frame = null;
        for (int at = 0; at < octets.Length; at += 6)
        {
            uint value = BinaryPrimitives.ReadUInt32BigEndian(octets[(at + 2)..]);
            switch (BinaryPrimitives.ReadUInt16BigEndian(octets[at..]))
            {
                case 2 when value > 1:
                    throw Error(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH other than 0 or 1");
                case 4 when value > int.MaxValue:
                    throw Error(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1");
                case 4:
                    window = value;
                    break;
                case 5 when value is < 16_384 or > 16_777_215:
                    throw Error(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE {value}, outside 2^14..2^24-1");
                case 5:
                    frame = value;
                    break;
            }
        }

        _writer.ApplySettings(window, frame, _streams.Values);
        return _writer.WriteFrameAsync(Http2FrameType.Settings, Http2FrameHeader.Ack, 0, []);
    }

    private Task PingAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 8) throw Error(Http2ErrorCode.FrameSizeError, "PING of a length other than 8");
        if (header.StreamId != 0) throw Error(Http2ErrorCode.ProtocolError, "PING on a stream");
        return header.Has(Http2FrameHeader.Ack) ? Task.CompletedTask : _writer.WriteFrameAsync(Http2FrameType.Ping, Http2FrameHeader.Ack, 0, payload.ToArray());
    }

    private Task GoAway(Http2FrameHeader header)
    {
        if (header.StreamId != 0) throw Error(Http2ErrorCode.ProtocolError, "GOAWAY on a stream");
        _closing = true; // the client opens no more streams; the open ones finish
        return Task.CompletedTask;
    }

    private Task WindowUpdateAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4) throw Error(Http2ErrorCode.FrameSizeError, "WINDOW_UPDATE of a length other than 4");
        Span<byte> octets = stackalloc byte[4];
        payload.CopyTo(octets);
        int increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(octets) & 0x7FFF_FFFF);
        if (header.StreamId == 0)
        {
            if (increment == 0) throw Error(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
            _writer.ConnectionWindowUpdate(increment);
            return Task.CompletedTask;
        }

        if (header.StreamId > _lastStreamId) throw Error(Http2ErrorCode.ProtocolError, $"WINDOW_UPDATE on stream {header.StreamId}, which is idle");
        if (!_streams.TryGetValue(header.StreamId, out var stream)) return Task.CompletedTask;
        if (increment == 0) return ResetAsync(stream, Http2ErrorCode.ProtocolError);
        return _writer.ClientStreamWindowUpdate(stream, increment) ? Task.CompletedTask : ResetAsync(stream, Http2ErrorCode.FlowControlError);
    }

    /// <summary>A stream error: RST_STREAM, and the call on it sees its stream aborted.</summary>
    private async Task ResetAsync(Http2Stream stream, Http2ErrorCode code)
    {
        _streams.Remove(stream.Id);
        Abort(stream);
        await _writer.ResetAsync(stream, code).ConfigureAwait(false);
    }

    private void EndRequest(Http2Stream stream)
    {
        stream.RequestEnded = true;
        stream.Call?.OnRequestEnd();
    }

    private static Http2ConnectionException Error(Http2ErrorCode code, string message) => new(code, message);
}
