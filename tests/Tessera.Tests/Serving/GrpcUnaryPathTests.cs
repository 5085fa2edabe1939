using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Tessera.Serving.Grpc.Wire;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// ModelInfer's own unary path on a real server, spoken to as bytes on HTTP/2 where Grpc.Net.Client cannot say what
/// is tested: a message in small DATA frames, a gzip-compressed call (which Grpc.AspNetCore's bound method takes and
/// must answer the same), a compressed flag without an encoding, garbage, a deadline passing while the message is
/// still arriving, non-ASCII in grpc-message — and the server answering afterwards.
/// </summary>
public sealed class GrpcUnaryPathTests
{
    [Fact]
    public async Task AMessageInSmallFramesAndAGzipCompressedOneGetTheAnswerGrpcNetClientGets()
    {
        var echo = TestModels.Echo([("FP32", Tessera.Tensors.DataType.Float32), ("UINT8", Tessera.Tensors.DataType.UInt8)]);
        await using var server = await TestServer.StartAsync(r => r.Add("echo", 1, new Tessera.Serving.Backends.LocalBackend(echo, "echo", 1, 1), new ServingConfig()), grpc: true);
        var request = GrpcApiTests.Request("echo", "in_FP32", "FP32", [70_000]);
        request.Inputs.Add(GrpcApiTests.Input("in_UINT8", "UINT8", [5]));
        request.Id = "split";
        var large = new byte[280_000];
        new Random(17).NextBytes(large);
        request.RawInputContents.Add([ByteString.CopyFrom(large), ByteString.CopyFrom(1, 2, 3, 4, 5)]);
        var expected = await server.Grpc.ModelInferAsync(request);
        Assert.True(expected.RawOutputContents.Single(c => c.Length == large.Length).Span.SequenceEqual(large));

        var split = await CallAsync(server, GrpcMessageReaderTests.Framed(request.ToByteArray()), piece: 1000);
        Assert.Equal(("0", null), (split.Status, split.Message));
        Assert.Equal(expected, ModelInferResponse.Parser.ParseFrom(Unframed(split.Body)));

        var gzip = await CallAsync(server, Compressed(request.ToByteArray()), encoding: "gzip"); // Grpc.AspNetCore's path
        Assert.Equal("0", gzip.Status);
        Assert.Equal(expected, ModelInferResponse.Parser.ParseFrom(Unframed(gzip.Body)));
    }

    [Fact]
    public async Task MalformedCallsGetTheirStatusAndTheServerGoesOn()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        var ok = GrpcApiTests.Request("affine", "x", "FP32", [1, 4]);
        ok.RawInputContents.Add(ByteString.CopyFrom(new byte[16]));
        byte[] framed = GrpcMessageReaderTests.Framed(ok.ToByteArray());

        byte[] compressedFlag = [.. framed];
        compressedFlag[0] = 1;
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(), (await CallAsync(server, compressedFlag)).Status);
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(), (await CallAsync(server, GrpcMessageReaderTests.Framed([0xFF, 0xFF, 0xFF]))).Status);
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(), (await CallAsync(server, framed[..^3])).Status);
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(), (await CallAsync(server, [.. framed, .. framed])).Status);

        var unknown = await CallAsync(server, GrpcMessageReaderTests.Framed(new ModelInferRequest { ModelName = "n\u00f6pe" }.ToByteArray()));
        Assert.Equal(((int)StatusCode.NotFound).ToString(), unknown.Status);
        Assert.StartsWith("unknown model 'n%C3%B6pe'", unknown.Message, StringComparison.Ordinal); // percent-encoded UTF-8
        var e = await Assert.ThrowsAsync<RpcException>(() => server.Grpc.ModelInferAsync(new ModelInferRequest { ModelName = "n\u00f6pe" }).ResponseAsync);
        Assert.StartsWith("unknown model 'n\u00f6pe'", e.Status.Detail, StringComparison.Ordinal); // decoded by the client

        Assert.Equal("0", (await CallAsync(server, framed, piece: 3)).Status);
    }

    [Fact]
    public async Task ADeadlinePassingWhileTheMessageArrivesIsDeadlineExceeded()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        var request = GrpcApiTests.Request("affine", "x", "FP32", [1, 4]);
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[16]));
        byte[] framed = GrpcMessageReaderTests.Framed(request.ToByteArray());
        var call = await CallAsync(server, framed, piece: 8, pause: TimeSpan.FromSeconds(3), timeout: "200m");
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(), call.Status);
        Assert.Equal("0", (await CallAsync(server, framed, timeout: "20S")).Status);
    }

    private static byte[] Compressed(byte[] message)
    {
        var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(message);
        byte[] framed = GrpcMessageReaderTests.Framed(gzipped.ToArray());
        framed[0] = 1;
        return framed;
    }

    private static byte[] Unframed(byte[] body)
    {
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)));
        return body[5..];
    }

    /// <summary>A POST of <paramref name="body"/> to ModelInfer, sent <paramref name="piece"/> bytes per flush (so per DATA frame) with <paramref name="pause"/> after the first.</summary>
    private static async Task<(string? Status, string? Message, byte[] Body)> CallAsync(TestServer server, byte[] body, int piece = int.MaxValue, TimeSpan pause = default, string? encoding = null, string? timeout = null)
    {
        using var http = new HttpClient(server.Handler()) { Timeout = TimeSpan.FromSeconds(60) };
        var content = new PiecesContent(body, piece, pause);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(server.Server.GrpcAddress!), "/inference.GRPCInferenceService/ModelInfer"))
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (encoding is not null) request.Headers.TryAddWithoutValidation("grpc-encoding", encoding);
        if (timeout is not null) request.Headers.TryAddWithoutValidation("grpc-timeout", timeout);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        byte[] answer = await response.Content.ReadAsByteArrayAsync();
        var headers = response.TrailingHeaders.Contains("grpc-status") ? response.TrailingHeaders : (HttpHeaders)response.Headers;
        return (Value(headers, "grpc-status"), Value(headers, "grpc-message"), answer);
    }

    private static string? Value(HttpHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.Single() : null;

    private sealed class PiecesContent(byte[] body, int piece, TimeSpan pause) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (int at = 0; at < body.Length; at += piece)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
                await stream.FlushAsync();
                if (at == 0 && pause > TimeSpan.Zero) await Task.Delay(pause);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
