using System.Buffers.Binary;
using System.Net.Sockets;

namespace Tessera.Tests.Serving;

/// <summary>
/// A client that writes HTTP/2 frames as bytes, whatever they say, and reads the server's frames back: for what no
/// real client sends. Each read waits at most 30 s, so a server that hangs fails the test instead of holding it.
/// </summary>
internal sealed class RawHttp2Client : IDisposable
{
    public static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawHttp2Client(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawHttp2Client> ConnectAsync(string address, bool hello = true)
    {
        var uri = new Uri(address);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(uri.Host, uri.Port);
        var client = new RawHttp2Client(socket);
        if (hello) await client.SendAsync([.. Preface, .. Frame(4, 0, 0, [])]);
        return client;
    }

    public static byte[] Frame(byte type, byte flags, int streamId, byte[] payload, int? length = null)
    {
        var frame = new byte[9 + payload.Length];
        int declared = length ?? payload.Length;
        frame[0] = (byte)(declared >> 16);
        frame[1] = (byte)(declared >> 8);
        frame[2] = (byte)declared;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>A request's header block, every field a literal without indexing with a new name (RFC 7541 §6.2.2), no Huffman.</summary>
    public static byte[] Fields(params (string Name, string Value)[] fields)
    {
        var block = new List<byte>();
        foreach (var (name, value) in fields)
        {
            block.Add(0);
            Text(block, name);
            Text(block, value);
        }

        return [.. block];
    }

    public static byte[] GrpcRequest(string path, params (string Name, string Value)[] extra) =>
        Fields([(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"), .. extra]);

    public static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>The next frame, or null when the server closed the connection.</summary>
    public async Task<(byte Type, byte Flags, int StreamId, byte[] Payload)?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var header = new byte[9];
        try
        {
            await _stream.ReadExactlyAsync(header, timeout.Token);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }

        var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
        await _stream.ReadExactlyAsync(payload, timeout.Token);
        return (header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF, payload);
    }

    /// <summary>Reads frames until one of <paramref name="type"/> (on <paramref name="streamId"/> when given); fails if the connection closes first.</summary>
    public async Task<(byte Flags, byte[] Payload)> ExpectAsync(byte type, int? streamId = null)
    {
        while (await ReadAsync() is { } frame)
        {
            if (frame.Type == type && (streamId is null || frame.StreamId == streamId)) return (frame.Flags, frame.Payload);
        }

        throw new Xunit.Sdk.XunitException($"the server closed the connection before sending a frame of type {type}");
    }

    /// <summary>The error code of the GOAWAY the server sends, after which it must close the connection.</summary>
    public async Task<uint> ExpectGoAwayAsync()
    {
        var (_, payload) = await ExpectAsync(7);
        uint code = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4));
        while (await ReadAsync() is not null)
        {
        }

        return code;
    }

    public void Dispose() => _stream.Dispose();

    private static void Text(List<byte> block, string text)
    {
        if (text.Length < 127)
        {
            block.Add((byte)text.Length);
        }
        else
        {
            block.Add(127);
            int rest = text.Length - 127;
            for (; rest >= 0x80; rest >>= 7) block.Add((byte)(rest | 0x80));
            block.Add((byte)rest);
        }

        block.AddRange(System.Text.Encoding.ASCII.GetBytes(text));
    }
}
