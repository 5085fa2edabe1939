using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Health.V1;
using Tessera.Serving.Backends;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Tests.Support;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// The front door: TLS on the REST and gRPC ports, bearer API keys (several, read again when the file changes;
/// 401 with the error object, UNAUTHENTICATED on gRPC; health checks open on request), and the header and stream limits.
/// </summary>
public sealed class FrontDoorSecurityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-front-door-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TlsServesRestAndGrpcAndRefusesPlainConnections()
    {
        var (cert, key) = TestCertificates.WriteSelfSigned(_dir, "front");
        var options = Options() with { Certificate = ServerCertificate.Load(cert, key) };
        await using var server = await TestServer.StartAsync(AddAffine, options);
        Assert.StartsWith("https://", server.Server.Addresses[0], StringComparison.Ordinal);
        Assert.StartsWith("https://", server.Server.GrpcAddress, StringComparison.Ordinal);
        Assert.Equal(200, (await server.PostJsonAsync("/v2/models/affine/infer", AffineJson)).Status);
        Assert.Single((await server.Grpc.ModelInferAsync(AffineRequest())).RawOutputContents);

        using var plain = new HttpClient();
        var refused = await Record.ExceptionAsync(() => plain.GetAsync(server.Server.Addresses[0].Replace("https://", "http://", StringComparison.Ordinal) + "/v2/health/ready"));
        Assert.IsType<HttpRequestException>(refused);
        using var untrusting = new HttpClient();
        Assert.IsType<HttpRequestException>(await Record.ExceptionAsync(() => untrusting.GetAsync(server.Server.Addresses[0] + "/v2/health/ready")));
    }

    [Fact]
    public async Task WithoutAValidKeyRestAnswers401AndGrpcUnauthenticated()
    {
        string keys = WriteKeys("# rotated monthly", "key-one", "", "  key-two  ");
        await using var server = await TestServer.StartAsync(AddAffine, Options() with { ApiKeyFile = keys }, apiKey: "key-two");
        Assert.Equal(200, (await server.PostJsonAsync("/v2/models/affine/infer", AffineJson)).Status);
        Assert.Single((await server.Grpc.ModelInferAsync(AffineRequest())).RawOutputContents);

        using var anonymous = new HttpClient { BaseAddress = new Uri(server.Server.Addresses[0]) };
        foreach (string path in new[] { "/v2/models/affine/infer", "/v2/health/ready", "/metrics", "/v2/nowhere" })
        {
            using var response = path.EndsWith("infer", StringComparison.Ordinal)
                ? await anonymous.PostAsync(path, new StringContent(AffineJson))
                : await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("needs an API key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "key-three");
        using (var wrong = await anonymous.GetAsync("/v2/models/affine"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal("{\"error\":\"the API key is not valid\"}", await wrong.Content.ReadAsStringAsync());
        }

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "key-one");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v2/models/affine")).StatusCode);

        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(Grpc.Net.Client.GrpcChannel.ForAddress(server.Server.GrpcAddress!));
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(AffineRequest()).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => grpc.ServerLiveAsync(new ServerLiveRequest()).ResponseAsync)).StatusCode);
        var withWrongKey = new Metadata { { "authorization", "Bearer nope" } };
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "affine" }, withWrongKey).ResponseAsync)).StatusCode);
        using var stream = grpc.ModelStreamInfer();
        await stream.RequestStream.CompleteAsync();
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(CancellationToken.None))).StatusCode);
    }

    [Fact]
    public async Task HealthChecksCanBeOpenWhileEverythingElseNeedsAKey()
    {
        string keys = WriteKeys("secret");
        await using var server = await TestServer.StartAsync(AddAffine, Options() with { ApiKeyFile = keys, OpenHealth = true });
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.GetAsync("/v2/models/affine/ready")).StatusCode);
        Assert.True((await server.Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => server.Grpc.ModelInferAsync(AffineRequest()).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task TheKeyFileIsReadAgainWhenItChanges()
    {
        string keys = WriteKeys("old-key");
        await using var server = await TestServer.StartAsync(AddAffine, Options() with { ApiKeyFile = keys });
        using var client = new HttpClient { BaseAddress = new Uri(server.Server.Addresses[0]) };
        Assert.Equal(HttpStatusCode.OK, await StatusWith(client, "old-key"));

        File.WriteAllLines(keys, ["new-key"]);
        await WaitUntilAsync(async () => await StatusWith(client, "new-key") == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(client, "old-key"));

        // A file emptied by mistake (or mid-write) keeps the keys the server has.
        File.WriteAllLines(keys, ["# nothing yet", "   "]);
        File.SetLastWriteTimeUtc(keys, DateTime.UtcNow.AddSeconds(5));
        await Task.Delay(1200);
        Assert.Equal(HttpStatusCode.OK, await StatusWith(client, "new-key"));
    }

    [Fact]
    public async Task HeadersAboveTheLimitAreRefusedAndStreamsPerConnectionAreCapped()
    {
        var gated = new GatedBackend(1, open: true);
        var options = Options() with { MaxHeaderBytes = 4096, MaxStreamsPerConnection = 2 };
        await using var server = await TestServer.StartAsync(r => r.Add("gated", 1, gated, new ServingConfig()), options);
        using var big = new HttpRequestMessage(HttpMethod.Get, "/v2/health/ready");
        big.Headers.Add("X-Padding", new string('a', 8000));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await server.Client.SendAsync(big)).StatusCode);

        // Two open streams take the connection's two slots: a third call waits until one of them ends.
        using var first = server.Grpc.ModelStreamInfer();
        using var second = server.Grpc.ModelStreamInfer();
        await first.RequestStream.WriteAsync(AffineRequest("gated"));
        await second.RequestStream.WriteAsync(AffineRequest("gated"));
        Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(await second.ResponseStream.MoveNext(CancellationToken.None));
        var third = server.Grpc.ModelInferAsync(AffineRequest("gated")).ResponseAsync;
        await Task.Delay(500);
        Assert.False(third.IsCompleted);
        await first.RequestStream.CompleteAsync();
        Assert.False(await first.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Single((await third).RawOutputContents);
    }

    private static ServerOptions Options() => new() { Url = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0" };

    private static void AddAffine(Tessera.Serving.Repository.ModelRepository r) => r.Add("affine", 1, new LocalBackend(TestModels.Affine(), "affine", 1, 1), new ServingConfig());

    private static string AffineJson => Wire.Request(Wire.Fp32Input("x", Tessera.Tensors.Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 1, 4)));

    private static ModelInferRequest AffineRequest(string model = "affine")
    {
        var request = GrpcApiTests.Request(model, "x", "FP32", [1, 4]);
        request.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(Wire.Bytes(new[] { 1f, 2f, 3f, 4f })));
        return request;
    }

    private string WriteKeys(params string[] lines)
    {
        string path = Path.Combine(_dir, "keys");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static async Task<HttpStatusCode> StatusWith(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/models/affine");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(await condition(), "the condition did not hold within 10 s");
    }
}
