using Tessera.Cli.Common;
using Tessera.Serving.Repository;

namespace Tessera.Cli.Commands;

/// <summary>
/// Where `tessera serve` runs its models: in this process, on N local workers, on the workers of a cluster file
/// (placed by a strategy), on a plan's workers, or on workers that join (`--join-listen`).
/// </summary>
internal sealed record ServePlacement(int Workers, string? Strategy, string? Plan, string? ClusterFile, string? TokenFile, Tessera.Cluster.Transport.ClusterTls? Tls = null)
{
    /// <summary>HOST:PORT to accept `tessera worker --join` at; null: no joins.</summary>
    public string? JoinListen { get; init; }

    /// <summary>serve's --otlp-endpoint, handed on to the local workers it starts.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>How the requests' float32 tensors travel between processes (--wire-dtype).</summary>
    public Tessera.Cluster.Transport.WireDataType Wire { get; init; } = Tessera.Cluster.Transport.WireDataType.Float32;

    /// <summary>How long a worker may be down before its models are placed again without it.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Refuses option combinations that do not go together, in one line each.</summary>
    public void Validate(string? modelPath)
    {
        if (Workers < 0) throw new CliException("--workers must be 0 or more");
        bool remote = ClusterFile is not null || JoinListen is not null;
        if (Workers > 0 && remote) throw new CliException("--workers starts workers of its own; --cluster and --join-listen serve on other workers: give one of them");
        if (Strategy is not null && Workers == 0 && !remote) throw new CliException("--strategy goes with --workers, --cluster or --join-listen");
        if (Plan is not null)
        {
            if (modelPath is null) throw new CliException("--plan serves the --model it was made for (not a --repository)");
            if (ClusterFile is null) throw new CliException("--plan needs --cluster, the cluster file with the workers' addresses");
            if (Strategy is not null || JoinListen is not null) throw new CliException("--plan places the model itself: --strategy and --join-listen go without it");
        }

        if (TokenFile is not null && !remote) throw new CliException("--token-file goes with --cluster or --join-listen");
        if (Tls is not null && !remote) throw new CliException("--cluster-tls-cert goes with --cluster or --join-listen (local workers talk over loopback)");
        if (Wire != Tessera.Cluster.Transport.WireDataType.Float32 && Workers == 0 && !remote) throw new CliException("--wire-dtype goes with --workers, --cluster or --join-listen (models in this process send no tensors)");
    }

    /// <summary>Starts the local workers or the coordinator for a plan; null when the models run in this process.</summary>
    public ServeOnCluster? Start(int threads)
    {
        var strategy = ModelConfig.ParseStrategy(Strategy ?? "data");
        var options = new Tessera.Cluster.Coordinator.CoordinatorOptions { Tls = Tls, WireDataType = Wire };
        var cluster = Workers > 0 ? ServeOnCluster.StartLocal(Workers, threads, strategy, OtlpEndpoint, Wire)
            : Plan is not null ? ServeOnCluster.ForPlan(TokenFile, options)
            : ClusterFile is not null || JoinListen is not null ? ServeOnCluster.StartRemote(ClusterFile, JoinListen, TokenFile, options, threads, strategy)
            : null;
        if (cluster is not null) cluster.Cluster.DeploymentOptions = Tessera.Cluster.Deployments.DeploymentOptions.Elastic(Grace);
        return cluster;
    }
}
