using Tessera.Batch;
using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
using Tessera.Engine;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera batch` after parsing: opens the job (checks, journal), deploys the model where the target says (this
/// process, N local workers, a cluster file's workers), runs the job with progress and prints the summary.
/// </summary>
internal static class BatchRun
{
    public static int Run(BatchRequest request, BatchTarget target) => RunAsync(request, target).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(BatchRequest request, BatchTarget target)
    {
        await using var job = await BatchJob.OpenAsync(request).ConfigureAwait(false);
        if (job.Finished is { } finished)
        {
            Console.WriteLine($"batch: '{request.OutPath}' already holds this job's output, complete");
            BatchDisplay.Summary(finished, null);
            return 0;
        }

        Console.WriteLine($"batch: {job.Progress.Total} records of {job.DataSource} in {job.Shards} shard(s) of {job.Key.ShardRows} ({job.ShardsDone} written before), batches of {job.BatchSize}");
        var strategy = DeploymentStrategies.Parse(target.Strategy);
        var options = DeploymentOptions.Elastic(target.Grace);
        int threads = target.Threads == 0 ? Environment.ProcessorCount : target.Threads;
        if (target.ClusterPath is { } clusterPath)
        {
            await using var cluster = await ClusterSession.ConnectAsync(clusterPath, target.TokenFile, target.Tls, target.Wire).ConfigureAwait(false);
            await using var deployment = await cluster.DeployAsync(request.ModelPath, strategy, job.BatchShapes, null, options).ConfigureAwait(false);
            return await RunOnAsync(job, deployment, null).ConfigureAwait(false);
        }

        if (target.Workers > 0)
        {
            await using var local = await LocalCluster.StartAsync(target.Workers, threads, target.Wire).ConfigureAwait(false);
            await using var deployment = await local.DeployAsync(request.ModelPath, strategy, job.BatchShapes, options: options).ConfigureAwait(false);
            return await RunOnAsync(job, deployment, local.WorkerProcessorTimes).ConfigureAwait(false);
        }

        var placements = Placer.WholeModelInProcess(request.ModelPath, new SessionOptions { Threads = threads });
        await using (var here = new Deployment(Path.GetFileNameWithoutExtension(request.ModelPath), DeploymentModel.ForModel(job.Model), placements))
        {
            return await RunOnAsync(job, here, null).ConfigureAwait(false);
        }
    }

    /// <param name="workerCpuTimes">The workers' CPU times, when this process started them.</param>
    private static async Task<int> RunOnAsync(BatchJob job, Deployment deployment, Func<TimeSpan[]>? workerCpuTimes)
    {
        Console.WriteLine(deployment.Plan is null ? $"placed: {deployment.Describe()}" : $"plan: {deployment.Describe()}");
        var manifest = await BatchDisplay.ShowAsync(job.Progress, job.RunAsync(deployment, workerCpuTimes)).ConfigureAwait(false);
        BatchDisplay.Summary(manifest, job.Progress);
        return 0;
    }
}
