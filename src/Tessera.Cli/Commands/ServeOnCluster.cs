using System.Runtime.InteropServices;
using Tessera.Cli.Common;
using Tessera.Cluster.Deployments;
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
    private PosixSignalRegistration[] _untilListening;

    private ServeOnCluster(ServingCluster cluster, LocalWorkers? local, PosixSignalRegistration[] untilListening)
    {
        Cluster = cluster;
        _local = local;
        _untilListening = untilListening;
    }

    public ServingCluster Cluster { get; }

    /// <param name="threads">Intra-op threads of each worker's sessions (0: one per core).</param>
    /// <param name="otlpEndpoint">Where the workers export their spans (serve's --otlp-endpoint); null: as their environment says.</param>
    /// <param name="wire">How the requests' float32 tensors travel between the processes (--wire-dtype).</param>
    public static ServeOnCluster StartLocal(int workers, int threads, DeploymentStrategy strategy, string? otlpEndpoint, Tessera.Cluster.Transport.WireDataType wire)
    {
        SpareThreads();
        var local = LocalWorkers.Start(workers, threads, LocalCluster.SelfCommand(), TimeSpan.FromSeconds(60), otlpEndpoint is null ? [] : ["--otlp-endpoint", otlpEndpoint]);
        // A SIGTERM or Ctrl+C before the server listens (while models load) ends the process at once, without the
        // host's graceful stop and without ProcessExit: the local workers must not outlive it.
        PosixSignalRegistration[] untilListening =
            [.. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT }.Select(signal => PosixSignalRegistration.Create(signal, _ => local.Dispose()))];
        try
        {
            int planned = threads == 0 ? Environment.ProcessorCount : threads;
            var cluster = ServingCluster.ConnectAsync(local.Token, local.Addresses, planned, strategy, new Tessera.Cluster.Coordinator.CoordinatorOptions { WireDataType = wire }).GetAwaiter().GetResult();
            Console.WriteLine($"tessera serve: started {workers} local worker(s) at {string.Join(", ", local.Addresses)}");
            return new ServeOnCluster(cluster, local, untilListening);
        }
        catch
        {
            foreach (var r in untilListening) r.Dispose();
            local.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The workers of a cluster file (addresses, <c>dns:NAME:PORT</c> resolved again while serving) and those that join
    /// at <paramref name="joinListen"/>; they keep running when the server stops.
    /// </summary>
    public static ServeOnCluster StartRemote(string? clusterPath, string? joinListen, string? tokenFile, Tessera.Cluster.Coordinator.CoordinatorOptions options, int threads, DeploymentStrategy strategy)
    {
        SpareThreads();
        var nodes = clusterPath is null ? [] : PlanFiles.ClusterNodes(clusterPath);
        int planned = threads == 0 ? Environment.ProcessorCount : threads;
        var cluster = ServingCluster.StartAsync(WorkerCommand.ReadToken(tokenFile), nodes, planned, strategy, options, joinListen, WorkerCommand.CreateLoggers()).GetAwaiter().GetResult();
        Console.WriteLine($"tessera serve: {cluster.Current.Count} worker(s) at {string.Join(", ", cluster.Current.Select(m => m.Worker.Address))}{(cluster.JoinAddress is { } join ? $"; workers join at {join}" : "")}");
        return new ServeOnCluster(cluster, null, []);
    }

    public static ServeOnCluster ForPlan(string? tokenFile, Tessera.Cluster.Coordinator.CoordinatorOptions options)
    {
        SpareThreads();
        return new ServeOnCluster(ServingCluster.ForPlan(WorkerCommand.ReadToken(tokenFile), options), null, []);
    }

    /// <summary>Serves the plan at <paramref name="planPath"/> for the model at <paramref name="modelPath"/> as version 1 of <paramref name="name"/>.</summary>
    public ModelRepository LoadPlan(Microsoft.Extensions.Logging.ILogger logger, string name, string modelPath, string planPath, string clusterPath, ModelConfig config)
    {
        var (plan, description) = PlanFiles.Load(planPath, clusterPath);

        var models = new ModelRepository(logger, Cluster);
        try
        {
            var addresses = description.Nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal);
            string directory = Path.GetDirectoryName(Path.GetFullPath(planPath))!;
            models.Add(name, 1, ClusterBackend.FromPlan(Cluster, name, modelPath, ModelReader.Load(modelPath), plan, directory, addresses), config);
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

    /// <summary>From now on the server's host stops gracefully on SIGTERM and Ctrl+C, and the workers after it.</summary>
    public void Listening()
    {
        foreach (var r in _untilListening) r.Dispose();
        _untilListening = [];
    }

    public async ValueTask DisposeAsync()
    {
        Listening();
        await Cluster.DisposeAsync().ConfigureAwait(false);
        _local?.Dispose();
    }
}
