namespace Tessera.Serving.Http;

/// <summary>Options of the HTTP server itself (per-model options live in <see cref="Repository.ModelConfig"/>).</summary>
internal sealed record ServerOptions
{
    /// <summary>Where to serve REST, e.g. http://127.0.0.1:8000; port 0 picks a free port (see <see cref="ServingServer.Addresses"/>).</summary>
    public string Url { get; init; } = "http://127.0.0.1:8000";

    /// <summary>Where to serve gRPC (HTTP/2), e.g. http://127.0.0.1:8001; null for no gRPC port.</summary>
    public string? GrpcUrl { get; init; }

    /// <summary>Largest request body (and gRPC request message); a larger one is answered 413 (RESOURCE_EXHAUSTED).</summary>
    public long MaxBodyBytes { get; init; } = 64L << 20;

    /// <summary>Whether clients may load and unload models of the repository folder (Triton's model repository extension); the index is always served.</summary>
    public bool RepositoryControl { get; init; }

    /// <summary>TLS on both ports (HTTPS, and gRPC over TLS): the server's certificate with its private key; null for plain HTTP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; init; }

    /// <summary>A file of bearer keys (see <see cref="ApiKeys"/>); null lets every client in.</summary>
    public string? ApiKeyFile { get; init; }

    /// <summary>With <see cref="ApiKeyFile"/>: the health checks answer without a key.</summary>
    public bool OpenHealth { get; init; }

    /// <summary>Largest size of a request's headers (HTTP/1.1 in total, HTTP/2 per field); larger ones are refused by Kestrel (431).</summary>
    public int MaxHeaderBytes { get; init; } = 32 << 10;

    /// <summary>Concurrent HTTP/2 streams (gRPC calls) per connection; a client's further calls wait for one to end.</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>What serves the gRPC port: Tessera's own HTTP/2 server, or Kestrel's with Grpc.AspNetCore.</summary>
    public GrpcServerKind GrpcServer { get; init; } = GrpcServerKind.Own;

    /// <summary>Where to export traces and metrics over OTLP; off by default.</summary>
    public Tessera.Cluster.Telemetry.TelemetryOptions Telemetry { get; init; } = new() { ServiceName = "tessera-serve" };

    /// <summary>Write logs to the console (the CLI does; tests do not).</summary>
    public bool ConsoleLog { get; init; }
}
