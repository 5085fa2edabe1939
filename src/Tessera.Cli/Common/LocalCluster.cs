using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Cluster.Transport;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;

namespace Tessera.Cli.Common;

/// <summary>
/// N local worker processes and a coordinator connected to all of them, kept for several runs (the demo and
/// `bench-cluster` run more than one model or more than one strategy on the same workers). Plans are written under
/// a temporary folder removed on dispose, with the workers.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly LocalWorkers _workers;
    private readonly string _plans;
    private int _planCount;

    private LocalCluster(LocalWorkers workers, ClusterCoordinator coordinator, WorkerClient[] clients, int threads)
    {
        _workers = workers;
        Coordinator = coordinator;
        Clients = clients;
        Threads = threads;
        _plans = Directory.CreateTempSubdirectory("tessera-local-plans-").FullName;
    }

    public ClusterCoordinator Coordinator { get; }

    public IReadOnlyList<WorkerClient> Clients { get; }

    public int Threads { get; }

    public IReadOnlyList<string> Addresses => _workers.Addresses;

    /// <summary>CPU time each worker process has used so far.</summary>
    public TimeSpan[] WorkerProcessorTimes() => _workers.ProcessorTimes();

    public static async Task<LocalCluster> StartAsync(int workers, int threads)
    {
        var local = LocalWorkers.Start(workers, threads, SelfCommand(), TimeSpan.FromSeconds(60));
        var coordinator = new ClusterCoordinator(local.Token);
        try
        {
            var clients = await Task.WhenAll(local.Addresses.Select(a => coordinator.ConnectAsync(a))).ConfigureAwait(false);
            return new LocalCluster(local, coordinator, clients, threads);
        }
        catch
        {
            await coordinator.DisposeAsync().ConfigureAwait(false);
            local.Dispose();
            throw;
        }
    }

    /// <summary>The whole model loaded on every worker: one single-step route per worker, for data parallelism.</summary>
    public async Task<Route[]> ReplicasAsync(string modelPath)
    {
        var model = ModelFile.FromPath(modelPath);
        var loaded = await Task.WhenAll(Clients.Select(c => Coordinator.EnsureModelAsync(c, model))).ConfigureAwait(false);
        return [.. Clients.Select((c, i) => new Route([new RouteStep(c, model.Hash, loaded[i].Inputs)]))];
    }

    /// <summary>
    /// Plans the model for these workers (each given this machine's available memory divided among them) with the
    /// Partitioning planner, writes the plan, and ships its sub-models to the workers; returns the runner and the plan's folder.
    /// </summary>
    public async Task<(PlanClusterRunner Runner, string Directory)> PlanAsync(string modelPath, IReadOnlyDictionary<string, int[]> inputShapes, PlanStrategy strategy, int? stages, PlanObjective objective = PlanObjective.Latency)
    {
        var nodes = Addresses.Select((a, i) => new ClusterNode
        {
            Name = $"local-{i}",
            Address = a,
            MemoryBytes = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / Addresses.Count),
            Threads = Threads,
        }).ToList();
        OnnxModel graph = ModelReader.Load(modelPath);
        PlanResult result;
        try
        {
            result = Planner.Plan(new PlanRequest
            {
                Model = graph,
                InputShapes = inputShapes,
                Cluster = new ClusterDescription { Nodes = nodes },
                Strategy = strategy,
                Objective = objective,
                Stages = stages,
                Degree = 1,
                Calibration = File.Exists(CalibrationProfile.DefaultPath) ? CalibrationProfile.Load(CalibrationProfile.DefaultPath) : CalibrationProfile.Default,
            });
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }

        string directory = Path.Combine(_plans, $"plan-{Interlocked.Increment(ref _planCount)}");
        Directory.CreateDirectory(directory);
        var plan = PlanMaterializer.Write(result, modelPath, directory);
        var runner = await PlanClusterRunner.StartAsync(Coordinator, plan, directory, nodes.ToDictionary(n => n.Name, n => n.Address, StringComparer.Ordinal)).ConfigureAwait(false);
        return (runner, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync().ConfigureAwait(false);
        _workers.Dispose();
        try
        {
            Directory.Delete(_plans, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>How to start this same `tessera` (apphost, or `dotnet tessera.dll`).</summary>
    public static string[] SelfCommand()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string entry = typeof(LocalCluster).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry] : [process];
    }

    /// <summary>Inputs' shapes by name, for the planner.</summary>
    public static Dictionary<string, int[]> Shapes(IReadOnlyDictionary<string, Tensor> feeds) =>
        feeds.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal);
}
