using System.Buffers;

namespace Tessera.Serving.Http2;

internal sealed partial class Http2Connection
{
    /// <summary>A DATA frame's header (and pad length, -1 for none) was read: its payload is read as it arrives.</summary>
    private Task BeginDataAsync(Http2FrameHeader header, int padding)
    {
        if (header.StreamId == 0) throw Error(Http2ErrorCode.ProtocolError, "DATA on stream 0");
        if (header.StreamId > _lastStreamId) throw Error(Http2ErrorCode.ProtocolError, $"DATA on stream {header.StreamId}, which is idle");
        _receiveWindow -= header.Length;
        if (_receiveWindow < 0) throw Error(Http2ErrorCode.FlowControlError, "DATA beyond the connection's window");
        int data = header.Length - (padding >= 0 ? 1 + padding : 0);
        if (data < 0) throw Error(Http2ErrorCode.ProtocolError, "DATA padding longer than the frame");

        _inData = true;
        _dataLeft = data;
        _paddingLeft = Math.Max(padding, 0);
        _dataEndsStream = header.Has(Http2FrameHeader.EndStream);
        _dataStream = null;
        Acknowledge(header.Length - data); // padding is flow-controlled but read by nobody
        if (!_streams.TryGetValue(header.StreamId, out var stream) || stream.Aborted.IsCancellationRequested || stream.AnswerEnded)
        {
            Acknowledge(data); // a stream this side reset or ended: its frames are dropped (§5.4.2)
            return Task.CompletedTask;
        }

        if (stream.RequestEnded)
        {
            Acknowledge(data);
            return ResetAsync(stream, Http2ErrorCode.StreamClosed);
        }

        if (!stream.TakeReceiveWindow(header.Length))
        {
            Acknowledge(data);
            return ResetAsync(stream, Http2ErrorCode.FlowControlError);
        }

        if (padding > 0) stream.Consumed(padding + 1);
        _dataStream = stream;
        return Task.CompletedTask;
    }

    /// <summary>Hands what has arrived of the DATA frame's payload to its stream's call; returns what is left of <paramref name="buffer"/>.</summary>
    private ReadOnlySequence<byte> ReadData(ReadOnlySequence<byte> buffer)
    {
        if (_dataLeft > 0)
        {
            int take = (int)Math.Min(_dataLeft, buffer.Length);
            if (take == 0) return buffer;
            var data = buffer.Slice(0, take);
            _dataLeft -= take;
            buffer = buffer.Slice(take);
            if (_dataStream is { } stream && !stream.Aborted.IsCancellationRequested)
            {
                stream.Call!.OnData(data);
            }

            Acknowledge(take);
        }

        int skip = (int)Math.Min(_paddingLeft, buffer.Length);
        _paddingLeft -= skip;
        return buffer.Slice(skip);
    }

    private async Task EndDataAsync()
    {
        var stream = _dataStream;
        _dataStream = null;
        if (_unacknowledged >= _limits.ConnectionWindow / 2)
        {
            int increment = _unacknowledged;
            _unacknowledged = 0;
            _receiveWindow += increment;
            await _writer.WindowUpdateAsync(0, increment).ConfigureAwait(false);
        }

        if (_dataEndsStream && stream is { RequestEnded: false } && !stream.Aborted.IsCancellationRequested)
        {
            EndRequest(stream);
        }
    }

    /// <summary>Octets of DATA read: the connection's window is given back once half of it is.</summary>
    private void Acknowledge(int bytes) => _unacknowledged += bytes;
}
