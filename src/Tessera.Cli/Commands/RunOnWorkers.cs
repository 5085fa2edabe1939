using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera run --workers N`: starts N local worker processes, deploys the model on them and runs it once, then stops
/// them. `data` splits the batch over whole-model replicas; `pipeline` (N stages), `tensor` (one tensor-parallel group
/// of degree T, default N, whose ranks exchange partial results worker to worker) and `auto` (the planner's choice,
/// without tensor parallelism, whose outputs are not bit-identical) plan the model for the N workers.
/// </summary>
internal static class RunOnWorkers
{
    public static IReadOnlyDictionary<string, Tensor> Run(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, int workers, int threads, string strategy, int? degree, TimeSpan grace)
    {
        if (degree is { } d && (strategy != "tensor" || d < 1 || d > workers))
        {
            throw new CliException(strategy != "tensor" ? "--degree goes with --strategy tensor" : $"--degree must be between 1 and --workers ({workers})");
        }

        return RunAsync(modelPath, feeds, workers, threads, DeploymentStrategies.Parse(strategy), degree, grace).GetAwaiter().GetResult();
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, int workers, int threads, DeploymentStrategy strategy, int? degree, TimeSpan grace)
    {
        await using var cluster = await LocalCluster.StartAsync(workers, threads).ConfigureAwait(false);
        await using var deployment = await cluster.DeployAsync(modelPath, strategy, feeds, degree: degree, options: DeploymentOptions.Elastic(grace)).ConfigureAwait(false);
        if (deployment.Plan is not null) Console.WriteLine($"plan: {deployment.Describe()}");
        return await deployment.RunAsync(feeds).ConfigureAwait(false);
    }
}
