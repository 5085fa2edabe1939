using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// A client's HTTP/2 connection (RFC 9113, cleartext with prior knowledge) that carries one unary call at a time, all
/// on the calling task: the call's frames are written to the socket and the answer's read from it by the caller,
/// where SocketsHttpHandler hands every frame to a writer loop and from a reader loop (two thread-pool hand-offs per
/// call, and per 16 KiB frame of a large message). DATA frames are as large as the server accepts (Kestrel's
/// MaxFrameSize) and announced as large as <see cref="ReceiveFrameBytes"/> the other way, receive windows are 2 GiB,
/// and the answer's bytes are only counted in the receive buffer, never copied out.
/// </summary>
internal sealed class Http2UnaryConnection : IDisposable
{
    public const int ReceiveFrameBytes = 1 << 20;
    private const int HeaderBytes = 9;
    private const int ReceiveWindow = int.MaxValue;
    private const int WindowRefill = 1 << 30; // bytes received before the windows are topped up again
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    private readonly Socket _socket;
    private readonly byte[] _in = new byte[2 * (HeaderBytes + ReceiveFrameBytes)];
    private readonly byte[] _out = new byte[64 << 10];
    private readonly byte[] _headerBlock = new byte[ReceiveFrameBytes];
    private int _start, _end, _outLength, _headerBlockLength;
    private int _peerMaxFrame = 16384, _peerInitialWindow = 65535;
    private long _sendWindow = 65535, _streamSendWindow;
    private long _unacknowledged, _streamUnacknowledged;
    private int _nextStream = 1;
    private bool _settingsSeen, _headersEndStream;

    private Http2UnaryConnection(Socket socket) => _socket = socket;

    /// <summary>Connects, exchanges SETTINGS and opens the connection's receive window.</summary>
    public static async Task<Http2UnaryConnection> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new Http2UnaryConnection(socket);
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(host, port), ct).ConfigureAwait(false);
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.CopyTo(connection._out);
            connection._outLength = 24;
            Span<byte> settings = stackalloc byte[24];
            Setting(settings, 0, 1, 0); // SETTINGS_HEADER_TABLE_SIZE: nothing indexed, every header block stands alone
            Setting(settings, 6, 2, 0); // SETTINGS_ENABLE_PUSH
            Setting(settings, 12, 4, ReceiveWindow); // SETTINGS_INITIAL_WINDOW_SIZE
            Setting(settings, 18, 5, ReceiveFrameBytes); // SETTINGS_MAX_FRAME_SIZE
            connection.Append(4, 0, 0, settings);
            connection.AppendWindowUpdate(0, ReceiveWindow - 65535);
            await connection.FlushAsync(ct).ConfigureAwait(false);
            while (!connection._settingsSeen)
            {
                await connection.ReadFrameAsync(null, ct).ConfigureAwait(false); // until the server's SETTINGS
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Sends one call (its header block, then <paramref name="message"/> as DATA) and reads its answer to the end.</summary>
    public async Task<UnaryAnswer> CallAsync(byte[] headerBlock, ArraySegment<byte> message, CancellationToken ct)
    {
        var answer = new UnaryAnswer(_nextStream);
        _nextStream += 2;
        _streamSendWindow = _peerInitialWindow;
        _streamUnacknowledged = 0;
        Append(1, (byte)(EndHeaders | (message.Count == 0 ? EndStream : 0)), answer.Stream, headerBlock);
        int sent = 0;
        while (sent < message.Count && !answer.Ended)
        {
            long window = Math.Min(_sendWindow, _streamSendWindow);
            if (window <= 0)
            {
                await FlushAsync(ct).ConfigureAwait(false);
                await ReadFrameAsync(answer, ct).ConfigureAwait(false); // until a WINDOW_UPDATE (or an early answer)
                continue;
            }

            int size = (int)Math.Min(Math.Min(window, _peerMaxFrame), message.Count - sent);
            byte flags = sent + size == message.Count ? EndStream : (byte)0;
            if (size <= _out.Length - _outLength - HeaderBytes)
            {
                Append(0, flags, answer.Stream, message.AsSpan(sent, size)); // small messages: one send with the HEADERS
            }
            else
            {
                Append(0, flags, answer.Stream, [], size);
                await FlushAsync(ct).ConfigureAwait(false);
                await SendAsync(message.Slice(sent, size), ct).ConfigureAwait(false);
            }

            sent += size;
            _sendWindow -= size;
            _streamSendWindow -= size;
        }

        if (answer.Ended && sent < message.Count && answer.ResetCode is null)
        {
            AppendReset(answer.Stream); // answered before it had the whole request: the rest is not wanted
        }

        await FlushAsync(ct).ConfigureAwait(false);
        while (!answer.Ended)
        {
            await ReadFrameAsync(answer, ct).ConfigureAwait(false);
        }

        return answer;
    }

    private async Task ReadFrameAsync(UnaryAnswer? answer, CancellationToken ct)
    {
        await FillAsync(HeaderBytes, ct).ConfigureAwait(false);
        int length = (_in[_start] << 16) | (_in[_start + 1] << 8) | _in[_start + 2];
        byte type = _in[_start + 3], flags = _in[_start + 4];
        int stream = BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(_start + 5)) & int.MaxValue;
        Protocol(length <= ReceiveFrameBytes, $"a frame of {length} bytes, over the {ReceiveFrameBytes} this client announced");
        _start += HeaderBytes;
        bool ours = answer is not null && stream == answer.Stream;
        if (type == 0)
        {
            await ReadDataAsync(ours ? answer : null, length, flags, ct).ConfigureAwait(false);
            return;
        }

        Protocol(type switch { 3 or 8 => length == 4, 6 => length == 8, 7 => length >= 8, _ => true }, $"a frame of type {type} with {length} bytes");
        await FillAsync(length, ct).ConfigureAwait(false);
        var payload = _in.AsSpan(_start, length);
        _start += length;
        switch (type)
        {
            case 1 or 9 when ours: // HEADERS, CONTINUATION
                HeaderFragment(answer!, type, flags, payload);
                break;
            case 3 when ours: // RST_STREAM
                answer!.ResetCode = BinaryPrimitives.ReadUInt32BigEndian(payload);
                answer.Ended = true;
                break;
            case 4 when (flags & Ack) == 0: // SETTINGS
                ApplySettings(payload);
                await FlushAsync(ct).ConfigureAwait(false);
                break;
            case 5: // PUSH_PROMISE, which this client's SETTINGS refused
                Protocol(false, "a PUSH_PROMISE");
                break;
            case 6 when (flags & Ack) == 0: // PING
                Append(6, Ack, 0, payload);
                await FlushAsync(ct).ConfigureAwait(false);
                break;
            case 7: // GOAWAY
                throw new IOException($"the server closed the HTTP/2 connection (GOAWAY, error code {BinaryPrimitives.ReadUInt32BigEndian(payload[4..])})");
            case 8: // WINDOW_UPDATE
                int increment = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
                if (stream == 0) _sendWindow += increment;
                else if (ours) _streamSendWindow += increment;
                break;
        }
    }

    /// <summary>A DATA frame's payload: counted (and checked by <paramref name="answer"/>) where it lies in the receive buffer.</summary>
    private async Task ReadDataAsync(UnaryAnswer? answer, int length, byte flags, CancellationToken ct)
    {
        int padding = 0, left = length;
        if ((flags & Padded) != 0)
        {
            await FillAsync(1, ct).ConfigureAwait(false);
            padding = _in[_start++];
            left--;
            Protocol(padding <= left, "DATA padding longer than the frame");
        }

        for (int data = left - padding; left > 0;)
        {
            if (_start == _end)
            {
                await FillAsync(1, ct).ConfigureAwait(false);
            }

            int take = Math.Min(left, _end - _start);
            int counted = Math.Min(take, Math.Max(data, 0));
            answer?.OnData(_in.AsSpan(_start, counted));
            _start += take;
            left -= take;
            data -= take;
        }

        _unacknowledged += length;
        if (answer is not null) _streamUnacknowledged += length;
        if (_unacknowledged >= WindowRefill)
        {
            AppendWindowUpdate(0, (int)_unacknowledged);
            _unacknowledged = 0;
        }

        if (_streamUnacknowledged >= WindowRefill)
        {
            AppendWindowUpdate(answer!.Stream, (int)_streamUnacknowledged);
            _streamUnacknowledged = 0;
        }

        if (answer is not null && (flags & EndStream) != 0) answer.Ended = true;
        if (_outLength > 0) await FlushAsync(ct).ConfigureAwait(false);
    }

    private void HeaderFragment(UnaryAnswer answer, byte type, byte flags, ReadOnlySpan<byte> payload)
    {
        if (type == 1)
        {
            int skip = ((flags & Padded) != 0 ? 1 : 0) + ((flags & Priority) != 0 ? 5 : 0);
            Protocol(payload.Length >= skip, "a HEADERS frame shorter than its padding and priority fields");
            int padding = (flags & Padded) != 0 ? payload[0] : 0;
            payload = payload[skip..];
            Protocol(padding <= payload.Length, "HEADERS padding longer than the frame");
            payload = payload[..^padding];
            _headerBlockLength = 0;
            _headersEndStream = (flags & EndStream) != 0;
        }

        Protocol(_headerBlockLength + payload.Length <= _headerBlock.Length, "a header block over 1 MiB");
        payload.CopyTo(_headerBlock.AsSpan(_headerBlockLength));
        _headerBlockLength += payload.Length;
        if ((flags & EndHeaders) != 0)
        {
            var (httpStatus, grpcStatus) = HpackFields.Read(_headerBlock.AsSpan(0, _headerBlockLength));
            answer.HttpStatus ??= httpStatus;
            answer.GrpcStatus = grpcStatus ?? answer.GrpcStatus;
            answer.Ended |= _headersEndStream;
        }
    }

    private void ApplySettings(ReadOnlySpan<byte> payload)
    {
        for (int at = 0; at + 6 <= payload.Length; at += 6)
        {
            uint value = BinaryPrimitives.ReadUInt32BigEndian(payload[(at + 2)..]);
            switch (BinaryPrimitives.ReadUInt16BigEndian(payload[at..]))
            {
                case 4:
                    Protocol(value <= int.MaxValue, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1");
                    _streamSendWindow += (long)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    break;
                case 5:
                    Protocol(value is >= 16384 and < (1 << 24), "SETTINGS_MAX_FRAME_SIZE outside 16384 to 2^24-1");
                    _peerMaxFrame = (int)value;
                    break;
            }
        }

        _settingsSeen = true;
        Append(4, Ack, 0, []);
    }

    /// <summary>Until at least <paramref name="count"/> unread bytes are in the buffer, contiguous.</summary>
    private async ValueTask FillAsync(int count, CancellationToken ct)
    {
        if (_end - _start >= count) return;
        if (_start + count > _in.Length)
        {
            Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            int read = await _socket.ReceiveAsync(_in.AsMemory(_end), SocketFlags.None, ct).ConfigureAwait(false);
            _end += read > 0 ? read : throw new IOException("the server closed the connection");
        }
    }

    private void Append(byte type, byte flags, int stream, ReadOnlySpan<byte> payload, int length = -1)
    {
        var frame = _out.AsSpan(_outLength);
        length = length < 0 ? payload.Length : length;
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame[5..], stream);
        payload.CopyTo(frame[HeaderBytes..]);
        _outLength += HeaderBytes + payload.Length;
    }

    private void AppendWindowUpdate(int stream, int increment)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        Append(8, 0, stream, payload);
    }

    private void AppendReset(int stream)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, 8); // CANCEL
        Append(3, 0, stream, payload);
    }

    private async ValueTask FlushAsync(CancellationToken ct)
    {
        await SendAsync(new ArraySegment<byte>(_out, 0, _outLength), ct).ConfigureAwait(false);
        _outLength = 0;
    }

    private async ValueTask SendAsync(ArraySegment<byte> bytes, CancellationToken ct)
    {
        for (int at = 0; at < bytes.Count;)
        {
            at += await _socket.SendAsync(bytes.AsMemory(at), SocketFlags.None, ct).ConfigureAwait(false);
        }
    }

    private static void Setting(Span<byte> settings, int at, ushort id, int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(settings[at..], id);
        BinaryPrimitives.WriteInt32BigEndian(settings[(at + 2)..], value);
    }

    private static void Protocol(bool condition, string what)
    {
        if (!condition) throw new IOException($"HTTP/2 protocol error from the server: {what}");
    }
}
