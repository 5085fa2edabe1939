using Tessera.Cli.Common;
using Tessera.Cluster.Execution;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Serving.Backends;
using Tessera.Serving.Repository;

namespace Tessera.Cli.Commands;

/// <summary>
/// The workers behind `tessera serve`: N local worker processes started for the server (`--workers N`) and stopped
/// with it, or the workers a plan's cluster file names (`--plan P --cluster C`), which keep running.
/// </summary>
internal sealed class ServeOnCluster : IAsyncDisposable
{
    private readonly LocalWorkers? _local;

    private ServeOnCluster(ServingCluster cluster, LocalWorkers? local)
    {
        Cluster = cluster;
        _local = local;
    }

    public ServingCluster Cluster { get; }

    public static ServeOnCluster StartLocal(int workers, int threads, ClusterStrategy strategy)
    {
        SpareThreads();
        var local = LocalWorkers.Start(workers, threads, RunOnWorkers.SelfCommand(), TimeSpan.FromSeconds(60));
        try
        {
            var cluster = ServingCluster.ConnectAsync(local.Token, local.Addresses, threads, strategy).GetAwaiter().GetResult();
            Console.WriteLine($"tessera serve: started {workers} local worker(s) at {string.Join(", ", local.Addresses)}");
            return new ServeOnCluster(cluster, local);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    public static ServeOnCluster ForPlan(string? tokenFile)
    {
        SpareThreads();
        return new ServeOnCluster(ServingCluster.ForPlan(WorkerCommand.ReadToken(tokenFile)), null);
    }

    /// <summary>Serves the plan at <paramref name="planPath"/> for the model at <paramref name="modelPath"/> as version 1 of <paramref name="name"/>.</summary>
    public ModelRepository LoadPlan(Microsoft.Extensions.Logging.ILogger logger, string name, string modelPath, string planPath, string clusterPath, ModelConfig config)
    {
        PlanDocument plan;
        ClusterDescription description;
        try
        {
            plan = PlanReader.Load(planPath);
            description = ClusterDescription.Load(clusterPath);
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }

        var models = new ModelRepository(logger, Cluster);
        try
        {
            var addresses = description.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
            string directory = Path.GetDirectoryName(Path.GetFullPath(planPath))!;
            models.Add(name, 1, ClusterDeployment.FromPlan(Cluster, name, modelPath, ModelReader.Load(modelPath), plan, directory, addresses), config);
            return models;
        }
        catch
        {
            models.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Heartbeats to the workers run on pool threads next to HTTP requests; on a 2-core host the pool starts with 2,
    /// and a burst of requests could hold them past a worker's down time (as in `tessera worker`).
    /// </summary>
    private static void SpareThreads()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync().ConfigureAwait(false);
        _local?.Dispose();
    }
}
