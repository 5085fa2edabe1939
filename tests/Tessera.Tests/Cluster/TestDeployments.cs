using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Partitioning.Plans;

namespace Tessera.Tests.Cluster;

/// <summary>Deployments for tests: a plan on workers by address, a plan in this process, or hand-made routes as replicas.</summary>
internal static class TestDeployments
{
    public static async Task<Deployment> OnPlanAsync(ClusterCoordinator coordinator, PlanDocument plan, string folder, DeploymentOptions? options = null)
    {
        var addresses = plan.Cluster.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
        var placements = await Placer.PlanOnAddressesAsync(coordinator, plan, folder, addresses);
        return new Deployment("test", DeploymentModel.ForPlan(plan, folder), placements, options);
    }

    public static Deployment InProcess(string planPath)
    {
        var plan = PlanReader.Load(planPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(planPath))!;
        var placements = Placer.InProcess(plan, folder); // checks the folder first
        return new Deployment("test", DeploymentModel.ForPlan(plan, folder), placements);
    }

    /// <summary>Each route a replica of a model whose inputs and outputs are batched on axis 0 (or not: <paramref name="batched"/>).</summary>
    public static Deployment OnRoutes(ClusterCoordinator coordinator, IEnumerable<Route> routes, string[] inputs, string[] outputs, bool batched = true, DeploymentOptions? options = null)
    {
        var model = new DeploymentModel(inputs, outputs,
            batched ? inputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal) : null, batched ? outputs.ToDictionary(n => n, _ => 0, StringComparer.Ordinal) : null);
        var placements = routes.Select(r => new Placement([.. r.Stages.Select(s => new RemoteStage(coordinator, s))], outputs)).ToArray();
        return new Deployment("test", model, new PlacementSet(placements), options);
    }
}
