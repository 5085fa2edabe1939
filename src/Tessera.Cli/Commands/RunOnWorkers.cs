using Tessera.Cli.Common;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera run --workers N` and `tessera run --cluster C.json`: deploys the model on N local worker processes started
/// for the run (stopped after it), or on the workers of a cluster file (addresses or <c>dns:NAME:PORT</c>), and runs
/// it once. `data` splits the batch over whole-model replicas; `pipeline` (one stage per worker), `tensor` (one
/// tensor-parallel group of degree T, default all workers, whose ranks exchange partial results worker to worker)
/// and `auto` (the planner's choice, without tensor parallelism, whose outputs are not bit-identical) plan the model
/// for the workers. A worker lost during the run is planned around after the grace period.
/// </summary>
internal static class RunOnWorkers
{
    public static IReadOnlyDictionary<string, Tensor> Run(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, int workers, int threads, WireDataType wire, string strategy, int? degree, TimeSpan grace)
    {
        CheckDegree(strategy, degree, workers);
        return RunAsync().GetAwaiter().GetResult();

        async Task<IReadOnlyDictionary<string, Tensor>> RunAsync()
        {
            await using var cluster = await LocalCluster.StartAsync(workers, threads, wire).ConfigureAwait(false);
            await using var deployment = await cluster.DeployAsync(modelPath, DeploymentStrategies.Parse(strategy), feeds, degree: degree, options: DeploymentOptions.Elastic(grace)).ConfigureAwait(false);
            return await RunOnceAsync(deployment, feeds).ConfigureAwait(false);
        }
    }

    public static IReadOnlyDictionary<string, Tensor> RunOnCluster(string modelPath, IReadOnlyDictionary<string, Tensor> feeds, string clusterPath, string? tokenFile, ClusterTls? tls, WireDataType wire, string strategy, int? degree, TimeSpan grace)
    {
        CheckDegree(strategy, degree, int.MaxValue);
        return RunAsync().GetAwaiter().GetResult();

        async Task<IReadOnlyDictionary<string, Tensor>> RunAsync()
        {
            await using var cluster = await ClusterSession.ConnectAsync(clusterPath, tokenFile, tls, wire).ConfigureAwait(false);
            var shapes = feeds.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal);
            await using var deployment = await cluster.DeployAsync(modelPath, DeploymentStrategies.Parse(strategy), shapes, degree, DeploymentOptions.Elastic(grace)).ConfigureAwait(false);
            return await RunOnceAsync(deployment, feeds).ConfigureAwait(false);
        }
    }

    private static async Task<IReadOnlyDictionary<string, Tensor>> RunOnceAsync(Deployment deployment, IReadOnlyDictionary<string, Tensor> feeds)
    {
        Console.WriteLine(deployment.Plan is null ? $"placed: {deployment.Describe()}" : $"plan: {deployment.Describe()}");
        return await deployment.RunAsync(feeds).ConfigureAwait(false);
    }

    private static void CheckDegree(string strategy, int? degree, int workers)
    {
        if (degree is { } d && (strategy != "tensor" || d < 1 || d > workers))
        {
            throw new CliException(strategy != "tensor" ? "--degree goes with --strategy tensor" : $"--degree must be between 1 and --workers ({workers})");
        }
    }
}
