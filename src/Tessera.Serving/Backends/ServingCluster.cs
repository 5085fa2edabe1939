using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Planning;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Backends;

/// <summary>
/// The workers a server runs its models on: one coordinator (its heartbeats watch every worker) and the workers
/// by index, which model configs name in "workers". Owned by whoever started the server, and disposed after it.
/// </summary>
internal sealed class ServingCluster : IAsyncDisposable
{
    private readonly ConcurrentDictionary<WorkerClient, WorkerLoad> _loads = new();

    private ServingCluster(ClusterCoordinator coordinator, IReadOnlyList<WorkerClient> workers, int threads, DeploymentStrategy strategy)
    {
        Coordinator = coordinator;
        Threads = threads;
        Strategy = strategy;
        // The workers the server starts share this machine: its available memory split over them (an estimate for
        // remote workers too, which report no memory size of their own).
        long memory = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / Math.Max(1, workers.Count));
        Members = [.. workers.Select((w, i) => new Member(new ClusterNode { Name = $"worker-{i}", Address = w.Address, MemoryBytes = memory, Threads = threads }, w))];
    }

    public ClusterCoordinator Coordinator { get; }

    /// <summary>The workers models are placed on, by index; empty when serving a plan, which names its own.</summary>
    public IReadOnlyList<Member> Members { get; }

    /// <summary>Intra-op threads of the workers' sessions, as the planner should assume.</summary>
    public int Threads { get; }

    /// <summary>How models whose config names no strategy use their workers.</summary>
    public DeploymentStrategy Strategy { get; }

    /// <summary>How the models' deployments cut batches and wait for placements.</summary>
    public DeploymentOptions DeploymentOptions { get; set; } = new();

    /// <summary>Where the deployments log (failovers); set by the server once it has its logger.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The one load of <paramref name="worker"/> that every model's replicas on it count their batches in.</summary>
    public WorkerLoad LoadOf(WorkerClient worker) => _loads.GetOrAdd(worker, _ => new WorkerLoad());

    /// <summary>Connects to every worker (in parallel) and authenticates with <paramref name="token"/>.</summary>
    public static async Task<ServingCluster> ConnectAsync(ClusterToken token, IReadOnlyList<string> addresses, int threads, DeploymentStrategy strategy, CoordinatorOptions? options = null, CancellationToken cancellation = default)
    {
        var coordinator = new ClusterCoordinator(token, options);
        try
        {
            var workers = await Task.WhenAll(addresses.Select(a => coordinator.ConnectAsync(a, cancellation))).ConfigureAwait(false);
            return new ServingCluster(coordinator, workers, threads, strategy);
        }
        catch
        {
            await coordinator.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A coordinator without placed workers, for a plan that connects to the nodes it names.</summary>
    public static ServingCluster ForPlan(ClusterToken token, CoordinatorOptions? options = null) =>
        new(new ClusterCoordinator(token, options), [], 1, DeploymentStrategy.Data);

    public ValueTask DisposeAsync() => Coordinator.DisposeAsync();
}
