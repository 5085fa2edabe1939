using System.Buffers.Binary;
using Google.Protobuf;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;

namespace Tessera.Tests.Serving;

/// <summary>
/// The gRPC port's own HTTP/2 server given frames no well-behaved client sends, as bytes on a socket: each is the
/// protocol's error (GOAWAY or RST_STREAM with the code RFC 9113 names), never a crash or a hang, and the server
/// answers a good call afterwards.
/// </summary>
public sealed class Http2FrameTests
{
    private const byte Data = 0, Headers = 1, RstStream = 3, Settings = 4, Ping = 6, WindowUpdate = 8, Continuation = 9;
    private const byte EndStream = 1, EndHeaders = 4;
    private const uint ProtocolError = 1, FlowControlError = 3, FrameSizeError = 6, RefusedStream = 7, CompressionError = 9;
    private const string ServerLive = "/inference.GRPCInferenceService/ServerLive";

    [Fact]
    public async Task ConnectionErrorsAreGoAwayWithTheirCode()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        string address = server.Server.GrpcAddress!;

        using (var bad = await RawHttp2Client.ConnectAsync(address, hello: false))
        {
            await bad.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            Assert.Equal(ProtocolError, await bad.ExpectGoAwayAsync());
        }

        Assert.Equal(FrameSizeError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Data, 0, 1, [], length: (1 << 20) + 1)));
        Assert.Equal(ProtocolError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Data, 0, 5, [1, 2, 3]))); // a stream never opened
        Assert.Equal(ProtocolError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Headers, EndHeaders, 2, RawHttp2Client.GrpcRequest(ServerLive)))); // even: a server's stream
        Assert.Equal(FlowControlError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(WindowUpdate, 0, 0, RawHttp2Client.UInt32(int.MaxValue))));
        Assert.Equal(FrameSizeError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Ping, 0, 0, [1, 2, 3])));
        Assert.Equal(CompressionError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Headers, EndHeaders, 1, [0xFF, 0xFF, 0xFF, 0x7F]))); // an index past every table
        Assert.Equal(CompressionError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Headers, EndHeaders, 1, [0x00, 0x85, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x61]))); // Huffman with EOS inside
        Assert.Equal(ProtocolError, await GoAwayAfterAsync(address, [.. RawHttp2Client.Frame(Headers, 0, 1, RawHttp2Client.GrpcRequest(ServerLive)), .. RawHttp2Client.Frame(Ping, 0, 0, new byte[8])])); // CONTINUATION expected
        Assert.Equal(ProtocolError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Continuation, EndHeaders, 1, [])));
        Assert.Equal(ProtocolError, await GoAwayAfterAsync(address, RawHttp2Client.Frame(Settings, 0, 0, [0, 2, 0, 0, 0, 7]))); // ENABLE_PUSH 7

        Assert.True((await server.Grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
    }

    [Fact]
    public async Task StreamErrorsResetOnlyTheirStream()
    {
        var options = new ServerOptions { Url = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0", MaxStreamsPerConnection = 1, MaxHeaderBytes = 4096 };
        await using var server = await TestServer.StartAsync(r => r.Add("affine", 1, new Tessera.Serving.Backends.LocalBackend(TestModels.Affine(), "affine", 1, 1), new Tessera.Serving.Repository.ModelConfig()), options);
        using var client = await RawHttp2Client.ConnectAsync(server.Server.GrpcAddress!);

        // A stream window taken over 2^31-1: that stream is reset, the connection goes on.
        await client.SendAsync(RawHttp2Client.Frame(Headers, EndHeaders, 1, RawHttp2Client.GrpcRequest("/inference.GRPCInferenceService/ModelStreamInfer")));
        await client.SendAsync(RawHttp2Client.Frame(WindowUpdate, 0, 1, RawHttp2Client.UInt32(int.MaxValue)));
        Assert.Equal(FlowControlError, BinaryPrimitives.ReadUInt32BigEndian((await client.ExpectAsync(RstStream, 1)).Payload));

        // One stream at most: a second one open at once is refused.
        await client.SendAsync(RawHttp2Client.Frame(Headers, EndHeaders, 3, RawHttp2Client.GrpcRequest("/inference.GRPCInferenceService/ModelStreamInfer")));
        await client.SendAsync(RawHttp2Client.Frame(Headers, EndHeaders, 5, RawHttp2Client.GrpcRequest("/inference.GRPCInferenceService/ModelStreamInfer")));
        Assert.Equal(RefusedStream, BinaryPrimitives.ReadUInt32BigEndian((await client.ExpectAsync(RstStream, 5)).Payload));
        await client.SendAsync(RawHttp2Client.Frame(RstStream, 0, 3, RawHttp2Client.UInt32(8))); // CANCEL

        // Fields over --max-header-bytes: 431, and the stream ends.
        await client.SendAsync(RawHttp2Client.Frame(Headers, EndHeaders | EndStream, 7, RawHttp2Client.GrpcRequest(ServerLive, ("x-big", new string('a', 5000)))));
        var (flags, block) = await client.ExpectAsync(Headers, 7);
        Assert.Equal(EndStream, (byte)(flags & EndStream));
        Assert.Equal([0x08, 0x03, (byte)'4', (byte)'3', (byte)'1'], block);

        // DATA past the stream's 16 MiB window (a message of 20 MiB announced, nothing read of it yet): that stream is reset.
        await client.SendAsync(RawHttp2Client.Frame(Headers, EndHeaders, 11, RawHttp2Client.GrpcRequest("/inference.GRPCInferenceService/ModelStreamInfer")));
        await client.SendAsync(RawHttp2Client.Frame(Data, 0, 11, [0, .. RawHttp2Client.UInt32(20 << 20)]));
        for (int i = 0; i < 17; i++) await client.SendAsync(RawHttp2Client.Frame(Data, 0, 11, new byte[1 << 20]));
        Assert.Equal(FlowControlError, BinaryPrimitives.ReadUInt32BigEndian((await client.ExpectAsync(RstStream, 11)).Payload));

        // PING is answered with its payload; then a call on this connection still works.
        await client.SendAsync(RawHttp2Client.Frame(Ping, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
        var pong = await client.ExpectAsync(Ping);
        Assert.Equal(1, pong.Flags & 1); // ACK
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], pong.Payload);
        await client.SendAsync([.. RawHttp2Client.Frame(Headers, EndHeaders, 13, RawHttp2Client.GrpcRequest(ServerLive)), .. RawHttp2Client.Frame(Data, EndStream, 13, [0, 0, 0, 0, 0])]);
        var (_, message) = await client.ExpectAsync(Data, 13);
        Assert.True(ServerLiveResponse.Parser.ParseFrom(message.AsSpan(5)).Live);
    }

    /// <summary>The GOAWAY code after a good start and <paramref name="bytes"/>.</summary>
    private static async Task<uint> GoAwayAfterAsync(string address, byte[] bytes)
    {
        using var client = await RawHttp2Client.ConnectAsync(address);
        var reading = client.ExpectGoAwayAsync();
        try
        {
            await client.SendAsync(bytes);
        }
        catch (IOException)
        {
            // The server closed the connection while the rest was being sent.
        }

        return await reading;
    }
}
