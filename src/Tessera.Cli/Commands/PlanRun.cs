using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Engine;
using Tessera.Partitioning;
using Tessera.Partitioning.Plans;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run --plan`: a plan deployed in this process (one session per stage), with plan errors as CLI errors.</summary>
internal static class PlanRun
{
    public static Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> Load(string planPath, SessionOptions options)
    {
        Deployment deployment;
        try
        {
            var plan = PlanReader.Load(planPath);
            string directory = Path.GetDirectoryName(Path.GetFullPath(planPath))!;
            var placements = Placer.InProcess(plan, directory, options); // checks the folder first
            deployment = new Deployment(plan.Model.Path, DeploymentModel.ForPlan(plan, directory), placements);
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }

        var p = deployment.Plan!;
        Console.WriteLine($"plan: {p.Strategy}, {p.Stages.Count} stage(s), {p.Stages[0].Replicas.Count} replica(s)");
        return feeds => deployment.RunAsync(feeds).GetAwaiter().GetResult();
    }
}
