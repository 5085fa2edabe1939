using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using System.Text;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using GRPCInferenceService = Tessera.Serving.Grpc.Wire.GRPCInferenceService;
using Tessera.Onnx.Graph;
using Tessera.Serving.Backends;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;

namespace Tessera.Tests.Serving;

/// <summary>A real Kestrel server on a free loopback port, in this process, and an HttpClient pointed at it.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(ServingServer server, X509Certificate2? trusted = null, string? apiKey = null)
    {
        Server = server;
        _trusted = trusted;
        _apiKey = apiKey;
        string address = server.Addresses.First();
        Client = new HttpClient(Handler()) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    public ServingServer Server { get; }

    public HttpClient Client { get; }

    /// <summary>A gRPC client of the server's gRPC port (started with grpc: true), without client-side message limits.</summary>
    public GRPCInferenceService.GRPCInferenceServiceClient Grpc => new(Channel);

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.GrpcAddress ?? throw new InvalidOperationException("started without gRPC"),
        new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            HttpHandler = Handler(),
            Credentials = _apiKey is null ? null : ChannelCredentials.Create(_trusted is null ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl,
                CallCredentials.FromInterceptor((_, metadata) =>
                {
                    metadata.Add("authorization", "Bearer " + _apiKey);
                    return Task.CompletedTask;
                })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });

    private readonly X509Certificate2? _trusted;
    private readonly string? _apiKey;
    private GrpcChannel? _channel;

    /// <summary>A handler that trusts the server's own certificate (when it has one) and no other.</summary>
    public SocketsHttpHandler Handler() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => _trusted is not null && certificate is not null && certificate.GetCertHashString() == _trusted.GetCertHashString() },
    };

    public static Task<TestServer> StartAsync(Action<ModelRepository> addModels, long maxBodyBytes = 64L << 20, bool grpc = false, bool repositoryControl = false) =>
        StartAsync(addModels, new ServerOptions { Url = "http://127.0.0.1:0", GrpcUrl = grpc ? "http://127.0.0.1:0" : null, MaxBodyBytes = maxBodyBytes, RepositoryControl = repositoryControl });

    /// <param name="apiKey">The key the clients send (Authorization: Bearer), or null to send none.</param>
    public static async Task<TestServer> StartAsync(Action<ModelRepository> addModels, ServerOptions options, string? apiKey = null)
    {
        var server = await ServingServer.StartAsync(options, logger =>
        {
            var models = new ModelRepository(logger);
            addModels(models);
            return models;
        });
        return new TestServer(server, options.Certificate, apiKey);
    }

    /// <summary>Serves the repository folder <paramref name="directory"/> over REST and gRPC.</summary>
    public static async Task<TestServer> StartRepositoryAsync(string directory, bool repositoryControl)
    {
        var options = new ServerOptions { Url = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0", RepositoryControl = repositoryControl };
        return new TestServer(await ServingServer.StartAsync(options, logger => ModelRepository.LoadDirectory(directory, new ModelConfig(), logger)));
    }

    public static Task<TestServer> StartAsync(string name, OnnxModel model, ModelConfig? config = null, bool grpc = false) =>
        StartAsync(r => r.Add(name, 1, new LocalBackend(model, name, (config ?? new ModelConfig()).Replicas, 1), config ?? new ModelConfig()), grpc: grpc);

    public async Task<(int Status, JsonElement Body)> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<(int Status, JsonElement Body)> PostJsonAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Posts a JSON header followed by binary tensor data, as the binary-data extension lays it out.</summary>
    public async Task<HttpResponseMessage> PostBinaryAsync(string path, string json, byte[] binary)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var content = new ByteArrayContent([.. header, .. binary]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await Client.PostAsync(path, content);
    }

    public async Task<string> MetricsAsync() => await Client.GetStringAsync("/metrics");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        _channel?.Dispose();
        await Server.DisposeAsync();
    }
}
