using Tessera.Cli.Common;
using Tessera.Serving.Repository;

namespace Tessera.Cli.Commands;

/// <summary>Where `tessera serve` runs its models: in this process, on N local workers, or on a plan's workers.</summary>
internal sealed record ServePlacement(int Workers, string? Strategy, string? Plan, string? ClusterFile, string? TokenFile, Tessera.Cluster.Transport.ClusterTls? Tls = null)
{
    /// <summary>How long a worker may be down before its models are placed again without it.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Refuses option combinations that do not go together, in one line each.</summary>
    public void Validate(string? modelPath)
    {
        if (Workers < 0) throw new CliException("--workers must be 0 or more");
        if (Strategy is not null && Workers == 0) throw new CliException("--strategy goes with --workers");
        if (Plan is not null)
        {
            if (Workers > 0) throw new CliException("--plan runs on the workers of --cluster; --workers starts workers of its own: give one of them");
            if (modelPath is null) throw new CliException("--plan serves the --model it was made for (not a --repository)");
            if (ClusterFile is null) throw new CliException("--plan needs --cluster, the cluster file with the workers' addresses");
        }
        else if (ClusterFile is not null)
        {
            throw new CliException("--cluster serves a --plan (make one with `tessera plan`)");
        }

        if (TokenFile is not null && ClusterFile is null) throw new CliException("--token-file goes with --cluster");
        if (Tls is not null && ClusterFile is null) throw new CliException("--tls-cert goes with --cluster (local workers talk over loopback)");
    }

    /// <summary>Starts the local workers or the coordinator for a plan; null when the models run in this process.</summary>
    public ServeOnCluster? Start(int threads)
    {
        var cluster = Workers > 0 ? ServeOnCluster.StartLocal(Workers, threads, ModelConfig.ParseStrategy(Strategy ?? "data"))
            : Plan is not null ? ServeOnCluster.ForPlan(TokenFile, Tls)
            : null;
        if (cluster is not null) cluster.Cluster.DeploymentOptions = Tessera.Cluster.Deployments.DeploymentOptions.Elastic(Grace);
        return cluster;
    }
}
