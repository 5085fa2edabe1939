using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Worker;

/// <summary>How a worker process listens, authenticates, caches and runs.</summary>
public sealed record WorkerOptions
{
    /// <summary>HOST:PORT to listen on; port 0 picks a free one (see <see cref="WorkerServer.Address"/>).</summary>
    public required string Listen { get; init; }

    public required ClusterToken Token { get; init; }

    /// <summary>Where shipped models are kept, named by their SHA-256, across restarts.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Intra-op threads of each loaded model's session.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Bytes of model weights the worker may hold loaded at once; 0 means no limit.</summary>
    public long MemoryBudget { get; init; }

    /// <summary>Shown to coordinators and in logs; defaults to the listen address.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// How long a rank of a tensor-parallel group waits at a collective for another rank's block before the request
    /// fails naming that rank (a peer whose link closes fails it at once).
    /// </summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TransportLimits Limits { get; init; } = TransportLimits.Default;

    /// <summary>TLS on every connection this worker accepts or opens (to peers, to a coordinator it joins); null: none.</summary>
    public ClusterTls? Tls { get; init; }
}
