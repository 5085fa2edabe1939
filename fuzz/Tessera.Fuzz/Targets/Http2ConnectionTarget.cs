using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using System.IO.Pipelines;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Serving.Grpc;
using Tessera.Serving.Grpc.Server;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;
using Tessera.Serving.Repository;
using GRPCInferenceService = Tessera.Serving.Grpc.Wire.GRPCInferenceService;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// The bytes a client sends to the gRPC port, read by the port's own HTTP/2 server as one connection: the preface,
/// frames (<see cref="Http2Connection"/>), header blocks (<see cref="HpackDecoder"/>, dynamic table and Huffman),
/// DATA cut into gRPC messages, each stream's call started and answered (the inference service with no models, so
/// ModelInfer answers NOT_FOUND, and health checks), until the input ends. Whatever the bytes, the connection ends
/// with GOAWAY or the input's end: no exception comes out of it, so there is no refusal.
/// </summary>
internal sealed class Http2ConnectionTarget : FuzzTarget
{
    private const int MaxMessageBytes = 256 << 10;

    private readonly GrpcDispatcher _dispatcher;
    private readonly Http2Limits _limits = new() { MaxHeaderListSize = 8 << 10 };

    public Http2ConnectionTarget()
    {
        var pool = new RequestBufferPool(16L << 20);
        var models = new ModelRepository(NullLogger.Instance);
        var inference = new InferenceGrpcService(models, new RepositoryControl(models, false), pool, NullLogger.Instance);
        var methods = new GrpcMethodTable(inference.Received);
        GRPCInferenceService.BindService(methods, inference);
        var health = new HealthServiceImpl();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        Health.BindService(methods, health);
        _dispatcher = new GrpcDispatcher(methods, inference, new FrontDoorAccess(null, false), pool, MaxMessageBytes, NullLogger.Instance);
    }

    public override string Name => "http2";

    public override string Description => "the gRPC port's own HTTP/2 server on one connection: Http2Connection's frames, HpackDecoder, gRPC message framing, call dispatch";

    public override void Parse(ReadOnlySpan<byte> input)
    {
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, useSynchronizationContext: false);
        var fromClient = new Pipe(options);
        var toClient = new Pipe(options);
        fromClient.Writer.Write(input);
        fromClient.Writer.Complete();
        var connection = new Http2Connection(new DuplexPipe(fromClient.Reader, toClient.Writer), _dispatcher, _limits);
        var running = connection.RunAsync(CancellationToken.None);
        while (true)
        {
            var read = toClient.Reader.ReadAsync().AsTask().GetAwaiter().GetResult(); // drained as written: the server never waits on its client
            toClient.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted) break;
        }

        running.GetAwaiter().GetResult();
    }

    public override bool IsRefusal(Exception e) => false;

    /// <summary>Answers are written and calls finish on other threads (timers, the inference service).</summary>
    public override bool MeasuresAllocation => false;

    public override IReadOnlyList<byte[]> Dictionary => [.. Tokens(":path", ":method", "POST", "application/grpc", "grpc-timeout", "grpc-encoding", "gzip", "/inference.GRPCInferenceService/ModelInfer", "/grpc.health.v1.Health/Check"), [0x00, 0x00, 0x00, 0x00, 0x04], [0x80, 0x00, 0x00, 0x00]];

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        byte[] preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(4, 0, 0, [0, 4, 0, 1, 0, 0, 0, 5, 0, 0, 64, 0])];
        byte[] health = Request(1, "/grpc.health.v1.Health/Check", indexing: false);
        byte[] check = Message(new HealthCheckRequest { Service = "" }.ToByteArray());
        var infer = new Tessera.Serving.Grpc.Wire.ModelInferRequest { ModelName = "m" };
        infer.Inputs.Add(new Tessera.Serving.Grpc.Wire.ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { 1, 2 } });
        infer.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(new byte[8]));
        byte[] inferMessage = Message(infer.ToByteArray());

        // A health check and a ModelInfer, PING, WINDOW_UPDATE, GOAWAY.
        yield return [.. preface, .. health, .. Frame(0, 1, 1, check),
            .. Request(3, "/inference.GRPCInferenceService/ModelInfer", indexing: true), .. Frame(0, 0, 3, inferMessage[..7]), .. Frame(0, 1, 3, inferMessage[7..]),
            .. Frame(6, 0, 0, new byte[8]), .. Frame(8, 0, 0, [0, 0, 16, 0]), .. Frame(7, 0, 0, new byte[8])];

        // Fields indexed in the dynamic table by the first request and used by the second; a padded DATA; CONTINUATION.
        byte[] second = Request(5, "/grpc.health.v1.Health/Check", indexing: true);
        yield return [.. preface, .. Request(1, "/grpc.health.v1.Health/Check", indexing: true), .. Frame(0, 0x9, 1, [3, .. check, 0, 0, 0]),
            .. Frame(1, 0, 3, [0x83, 0x86, 0xC2, 0xC1]), .. Frame(9, 4, 3, [0xC0, 0xBF, 0xBE]), .. Frame(0, 1, 3, check), .. second, .. Frame(0, 1, 5, check)];

        // The RFC 7541 C.4 requests: Huffman-coded, each using the table the one before filled (GETs: refused by the dispatcher).
        yield return [.. preface,
            .. Frame(1, 5, 1, Convert.FromHexString("828684418cf1e3c2e5f23a6ba0ab90f4ff")),
            .. Frame(1, 5, 3, Convert.FromHexString("828684be5886a8eb10649cbf")),
            .. Frame(1, 5, 5, Convert.FromHexString("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))];
    }

    /// <summary>A gRPC request's HEADERS: literals with new names, added to the dynamic table with <paramref name="indexing"/> (newest first: grpc-timeout is 62, :path 66).</summary>
    private static byte[] Request(int streamId, string path, bool indexing)
    {
        var block = new ArrayBufferWriter<byte>();
        block.Write<byte>([0x83, 0x86]); // :method POST, :scheme http
        (string Name, string Value)[] fields = [(":path", path), (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "5S")];
        foreach (var (name, value) in fields)
        {
            HpackPrimitives.WriteInteger(block, (byte)(indexing ? 0x40 : 0x00), indexing ? 6 : 4, 0);
            HpackPrimitives.WriteString(block, name);
            HpackPrimitives.WriteString(block, value);
        }

        return Frame(1, 4, streamId, block.WrittenSpan.ToArray());
    }

    private static byte[] Message(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        new Http2FrameHeader(payload.Length, (Http2FrameType)type, flags, streamId).Write(frame);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
