using Tessera.Cluster.Transport;

namespace Tessera.Cli.Commands;

/// <summary>
/// Where `tessera batch` runs: in this process (no workers), on N local workers, or on a cluster file's workers, whose
/// requests' float32 tensors travel as <paramref name="Wire"/>.
/// </summary>
internal sealed record BatchTarget(int Workers, string? ClusterPath, string? TokenFile, ClusterTls? Tls, string Strategy, int Threads, TimeSpan Grace, WireDataType Wire);
