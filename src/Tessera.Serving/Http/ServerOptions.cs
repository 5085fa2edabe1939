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

    /// <summary>Write logs to the console (the CLI does; tests do not).</summary>
    public bool ConsoleLog { get; init; }
}
