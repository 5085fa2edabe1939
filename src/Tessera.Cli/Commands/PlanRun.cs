using Tessera.Cli.Common;
using Tessera.Engine;
using Tessera.Partitioning;
using Tessera.Partitioning.Execution;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera run --plan`: a plan run in this process, one session per stage, with plan errors as CLI errors.</summary>
internal static class PlanRun
{
    public static Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> Load(string planPath, SessionOptions options)
    {
        LocalPlanRunner runner;
        try
        {
            runner = LocalPlanRunner.Load(planPath, options);
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }

        Console.WriteLine($"plan: {runner.Plan.Strategy}, {runner.Plan.Stages.Count} stage(s), {runner.Plan.Stages[0].Replicas.Count} replica(s)");
        return feeds =>
        {
            try
            {
                return runner.Run(feeds);
            }
            catch (PartitionException e)
            {
                throw new CliException(e.Message);
            }
        };
    }
}
