using Tessera.Cli.Common;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Cluster.Transport;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run --plan P --cluster C.json`: the plan's stages on the workers at the cluster file's addresses.</summary>
internal static class PlanOnCluster
{
    public static IReadOnlyDictionary<string, Tensor> Run(string planPath, string clusterPath, string? tokenFile, ClusterTls? tls, IReadOnlyDictionary<string, Tensor> feeds)
    {
        var (plan, cluster) = PlanFiles.Load(planPath, clusterPath);

        var token = WorkerCommand.ReadToken(tokenFile);
        var addresses = cluster.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
        return Run(plan, Path.GetDirectoryName(Path.GetFullPath(planPath))!, addresses, token, feeds, tls);
    }

    /// <summary>Connects, ships, runs once and disconnects; plan problems become one-line CLI errors.</summary>
    public static IReadOnlyDictionary<string, Tensor> Run(PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses, ClusterToken token, IReadOnlyDictionary<string, Tensor> feeds, ClusterTls? tls = null)
    {
        try
        {
            return RunAsync(plan, directory, addresses, token, feeds, tls).GetAwaiter().GetResult();
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses, ClusterToken token, IReadOnlyDictionary<string, Tensor> feeds, ClusterTls? tls)
    {
        await using var coordinator = new ClusterCoordinator(token, new CoordinatorOptions { Tls = tls });
        var runner = await PlanClusterRunner.StartAsync(coordinator, plan, directory, addresses).ConfigureAwait(false);
        Console.WriteLine($"plan: {plan.Strategy}, {plan.Stages.Count} stage(s), {plan.Stages[0].Replicas.Count} replica(s) on {string.Join(", ", runner.Routes.Select(r => r.ToString()))}");
        return await runner.RunAsync(feeds).ConfigureAwait(false);
    }
}
