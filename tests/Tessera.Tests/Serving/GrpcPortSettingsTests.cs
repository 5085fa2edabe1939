using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;
using Tessera.Serving.Http;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// What the gRPC port announces in its first HTTP/2 frames (read as bytes off the socket), and a message larger than
/// the windows it announces, sent by loadgen's connection in the frame size it announces.
/// </summary>
public sealed class GrpcPortSettingsTests
{
    [Fact]
    public async Task TheGrpcPortAnnouncesLargeWindowsAndFramesAndTheStreamLimit()
    {
        var options = new ServerOptions { Url = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0", MaxStreamsPerConnection = 7 };
        await using var server = await TestServer.StartAsync(r => r.Add("affine", 1, new Tessera.Serving.Backends.LocalBackend(TestModels.Affine(), "affine", 1, 1), new ServingConfig()), options);
        var address = new Uri(server.Server.GrpcAddress!);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.Host, address.Port);
        byte[] hello = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0]; // the preface, an empty SETTINGS
        await socket.SendAsync(hello);

        Dictionary<int, uint>? settings = null;
        uint? connectionWindowIncrement = null;
        using var stream = new NetworkStream(socket);
        var header = new byte[9];
        while (settings is null || connectionWindowIncrement is null)
        {
            await stream.ReadExactlyAsync(header);
            var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
            await stream.ReadExactlyAsync(payload);
            if (header[3] == 4 && (header[4] & 1) == 0)
            {
                settings = Enumerable.Range(0, payload.Length / 6)
                    .ToDictionary(i => (int)BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(6 * i)), i => BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(6 * i + 2)));
            }
            else if (header[3] == 8 && BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) == 0)
            {
                connectionWindowIncrement = BinaryPrimitives.ReadUInt32BigEndian(payload);
            }
        }

        Assert.Equal(7u, settings[3]); // SETTINGS_MAX_CONCURRENT_STREAMS: --max-streams
        Assert.Equal(16u << 20, settings[4]); // SETTINGS_INITIAL_WINDOW_SIZE: a stream's window
        Assert.Equal(1u << 20, settings[5]); // SETTINGS_MAX_FRAME_SIZE
        Assert.Equal((32u << 20) - 65_535, connectionWindowIncrement); // the connection's window, from the protocol's 64 KiB
    }

    [Fact]
    public async Task LoadgensConnectionSendsAndReceivesAMessageLargerThanTheServersWindows()
    {
        var echo = TestModels.Echo([("FP32", Tessera.Tensors.DataType.Float32)]);
        await using var server = await TestServer.StartAsync(r => r.Add("echo", 1, new Tessera.Serving.Backends.LocalBackend(echo, "echo", 1, 1), new ServingConfig()), grpc: true);
        const int elements = 9 << 20; // 36 MiB: over the stream's 16 MiB and the connection's 32 MiB window
        var request = GrpcApiTests.Request("echo", "in_FP32", "FP32", [elements]);
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[4 * elements]));
        using var call = new Tessera.Cli.LoadGen.GrpcWireCall(new Uri(server.Server.GrpcAddress!).Authority, "/inference.GRPCInferenceService/ModelInfer",
            Tessera.Cli.LoadGen.GrpcWireCall.Frame(request.ToByteArray()), TimeSpan.FromSeconds(60));
        Assert.Null(await call.SendAsync(CancellationToken.None)); // grpc-status 0 and exactly one message of the answer's length
        Assert.Null(await call.SendAsync(CancellationToken.None)); // the windows the first call used up were given back
    }
}
