using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Execution;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Common;

/// <summary>
/// N local worker processes and a coordinator connected to all of them, kept for several deployments (`run
/// --workers`, the demo and `bench-cluster`, which runs more than one model or strategy on the same workers). Each
/// worker is a planner node `local-i` with this machine's available memory divided among them.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly LocalWorkers _workers;

    private LocalCluster(LocalWorkers workers, ClusterCoordinator coordinator, IReadOnlyList<Member> members)
    {
        _workers = workers;
        Coordinator = coordinator;
        Members = members;
    }

    public ClusterCoordinator Coordinator { get; }

    public IReadOnlyList<Member> Members { get; }

    public IReadOnlyList<string> Addresses => _workers.Addresses;

    /// <summary>CPU time each worker process has used so far.</summary>
    public TimeSpan[] WorkerProcessorTimes() => _workers.ProcessorTimes();

    /// <param name="wire">How the requests' float32 tensors travel between the processes (--wire-dtype).</param>
    public static async Task<LocalCluster> StartAsync(int workers, int threads, WireDataType wire = WireDataType.Float32)
    {
        var local = LocalWorkers.Start(workers, threads, SelfCommand(), TimeSpan.FromSeconds(60));
        var coordinator = new ClusterCoordinator(local.Token, new CoordinatorOptions { WireDataType = wire });
        try
        {
            var clients = await local.ConnectAsync(coordinator).ConfigureAwait(false);
            long memory = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / workers); // they share this machine
            var members = clients.Select((c, i) => new Member(new ClusterNode { Name = $"local-{i}", Address = c.Address, MemoryBytes = memory, Threads = threads }, c)).ToArray();
            return new LocalCluster(local, coordinator, members);
        }
        catch
        {
            await coordinator.DisposeAsync().ConfigureAwait(false);
            local.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Places the model on the workers by <paramref name="strategy"/> (a plan made for <paramref name="inputShapes"/>);
    /// plan problems become one-line CLI errors.
    /// </summary>
    public Task<Deployment> DeployAsync(string modelPath, DeploymentStrategy strategy, IReadOnlyDictionary<string, Tensor> feeds, PlanObjective objective = PlanObjective.Latency, int? stages = null, int? degree = null, DeploymentOptions? options = null) =>
        DeployAsync(modelPath, strategy, feeds.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal), objective, stages, degree, options);

    /// <summary>The same for a plan made for <paramref name="inputShapes"/> (a job that has no one request).</summary>
    public async Task<Deployment> DeployAsync(string modelPath, DeploymentStrategy strategy, IReadOnlyDictionary<string, int[]> inputShapes, PlanObjective objective = PlanObjective.Latency, int? stages = null, int? degree = null, DeploymentOptions? options = null)
    {
        var model = ModelReader.Load(modelPath);
        var request = new PlacementRequest(modelPath, model, strategy)
        {
            InputShapes = inputShapes,
            Stages = stages,
            Degree = degree,
            Objective = objective,
        };
        try
        {
            return await Deployment.StartAsync(Path.GetFileNameWithoutExtension(modelPath), new Replacement(Coordinator, () => Members, request), options ?? new DeploymentOptions()).ConfigureAwait(false);
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync().ConfigureAwait(false);
        _workers.Dispose();
    }

    /// <summary>How to start this same `tessera` (apphost, or `dotnet tessera.dll`).</summary>
    public static string[] SelfCommand()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string entry = typeof(LocalCluster).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry] : [process];
    }
}
