using Tessera.Cli.Common;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Partitioning;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run --plan P --cluster C.json`: the plan deployed on the workers at the cluster file's addresses, run once.</summary>
internal static class PlanOnCluster
{
    public static IReadOnlyDictionary<string, Tensor> Run(string planPath, string clusterPath, string? tokenFile, ClusterTls? tls, WireDataType wire, IReadOnlyDictionary<string, Tensor> feeds)
    {
        var (plan, cluster) = PlanFiles.Load(planPath, clusterPath);
        var token = WorkerCommand.ReadToken(tokenFile);
        var addresses = cluster.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
        string directory = Path.GetDirectoryName(Path.GetFullPath(planPath))!;
        try
        {
            return RunAsync(plan, directory, addresses, token, feeds, new CoordinatorOptions { Tls = tls, WireDataType = wire }).GetAwaiter().GetResult();
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(Partitioning.Plans.PlanDocument plan, string directory, IReadOnlyDictionary<string, string> addresses, ClusterToken token, IReadOnlyDictionary<string, Tensor> feeds, CoordinatorOptions options)
    {
        await using var coordinator = new ClusterCoordinator(token, options);
        var placements = await Placer.PlanOnAddressesAsync(coordinator, plan, directory, addresses).ConfigureAwait(false);
        await using var deployment = new Deployment(plan.Model.Path, DeploymentModel.ForPlan(plan, directory), placements);
        Console.WriteLine($"plan: {deployment.Describe()}");
        return await deployment.RunAsync(feeds).ConfigureAwait(false);
    }
}
