using System.Net.Sockets;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Tests.Cluster;

/// <summary>Sends hand-made bytes to a worker over a plain socket and reads the Error frame it answers with.</summary>
internal static class RawExchange
{
    public static byte[] Header(FrameType type, uint length)
    {
        var bytes = new byte[FrameHeader.Size];
        new FrameHeader(length, type, 0).Write(bytes);
        return bytes;
    }

    public static byte[] Frame(FrameType type, ulong id, byte[] payload)
    {
        var bytes = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader((uint)payload.Length, type, id).Write(bytes);
        payload.CopyTo(bytes, FrameHeader.Size);
        return bytes;
    }

    public static async Task<ErrorMessage> SendAsync(string address, byte[] bytes)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(ClusterAddress.Parse(address));
        await socket.SendAsync(bytes);
        using var stream = new NetworkStream(socket);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[FrameHeader.Size];
        await stream.ReadExactlyAsync(header, timeout.Token);
        var parsed = FrameHeader.Read(header);
        Assert.Equal(FrameType.Error, parsed.Type);
        var payload = new byte[parsed.Length];
        await stream.ReadExactlyAsync(payload, timeout.Token);
        // After the error the worker closes the connection.
        Assert.Equal(0, await stream.ReadAsync(new byte[1], timeout.Token));
        return ErrorMessage.Read(payload);
    }
}
