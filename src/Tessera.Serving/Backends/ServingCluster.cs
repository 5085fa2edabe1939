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
/// The workers a server runs its models on: one coordinator (its heartbeats watch every worker) and the cluster's
/// members, which may change while it serves (DNS names resolved again, workers joining). The members at start are
/// numbered, and model configs name them in "workers"; a model placed by default also gets every member that comes
/// later. Owned by whoever started the server, and disposed after it.
/// </summary>
internal sealed class ServingCluster : IAsyncDisposable
{
    private readonly ConcurrentDictionary<WorkerClient, WorkerLoad> _loads = new();
    private readonly ClusterMembers? _members;

    private ServingCluster(ClusterCoordinator coordinator, ClusterMembers? members, int threads, DeploymentStrategy strategy)
    {
        Coordinator = coordinator;
        _members = members;
        Initial = members?.Current ?? [];
        Threads = threads;
        Strategy = strategy;
    }

    public ClusterCoordinator Coordinator { get; }

    /// <summary>The members at start, by index (model configs' "workers"); empty when serving a plan, which names its own.</summary>
    public IReadOnlyList<Member> Initial { get; }

    /// <summary>The members now: those at start and any that came since.</summary>
    public IReadOnlyList<Member> Current => _members?.Current ?? Initial;

    /// <summary>Intra-op threads of the workers' sessions, as the planner should assume.</summary>
    public int Threads { get; }

    /// <summary>How models whose config names no strategy use their workers.</summary>
    public DeploymentStrategy Strategy { get; }

    /// <summary>How the models' deployments cut batches, wait for placements and plan around lost workers.</summary>
    public DeploymentOptions DeploymentOptions { get; set; } = new();

    /// <summary>Where the deployments log (failovers, re-placements); set by the repository with the server's logger.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The address workers join at (`tessera worker --join`), when the server accepts joins.</summary>
    public string? JoinAddress => _members?.JoinAddress;

    /// <summary>The one load of <paramref name="worker"/> that every model's replicas on it count their batches in.</summary>
    public WorkerLoad LoadOf(WorkerClient worker) => _loads.GetOrAdd(worker, _ => new WorkerLoad());

    /// <summary>
    /// The members a model on <paramref name="workers"/> (indices into <see cref="Initial"/>) may use: those, and when
    /// it was placed by default (<paramref name="growing"/>) every member that came after the start.
    /// </summary>
    public Func<IReadOnlyList<Member>> MembersFor(IReadOnlyList<int> workers, bool growing)
    {
        var mine = workers.Select(i => Initial[i].Worker).ToHashSet();
        var initial = Initial.Select(m => m.Worker).ToHashSet();
        return () => [.. Current.Where(m => mine.Contains(m.Worker) || (growing && !initial.Contains(m.Worker)))];
    }

    /// <summary>Connects to workers at <paramref name="addresses"/> (planner nodes worker-0, worker-1, ... sharing this machine's memory).</summary>
    public static Task<ServingCluster> ConnectAsync(ClusterToken token, IReadOnlyList<string> addresses, int threads, DeploymentStrategy strategy, CoordinatorOptions? options = null, CancellationToken cancellation = default)
    {
        // The workers the server starts share this machine: its available memory split over them.
        long memory = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / Math.Max(1, addresses.Count));
        var nodes = addresses.Select((a, i) => new ClusterNode { Name = $"worker-{i}", Address = a, MemoryBytes = memory, Threads = threads }).ToArray();
        return StartAsync(token, nodes, threads, strategy, options, null, null, cancellation);
    }

    /// <summary>
    /// Starts the members of a cluster description (addresses, <c>dns:NAME:PORT</c>), accepting joins at
    /// <paramref name="joinListen"/> when given. Unreachable workers are logged and tried again; none at all is an
    /// error only when nothing can add one later (no DNS name, no join listener).
    /// </summary>
    /// <param name="loggers">Where the coordinator and the membership log (unreachable workers, names that do not resolve, joins).</param>
    public static async Task<ServingCluster> StartAsync(ClusterToken token, IReadOnlyList<ClusterNode> nodes, int threads, DeploymentStrategy strategy, CoordinatorOptions? options = null, string? joinListen = null, ILoggerFactory? loggers = null, CancellationToken cancellation = default)
    {
        var coordinator = new ClusterCoordinator(token, options, loggers);
        var joined = new ClusterNode { Name = "joined", MemoryBytes = Math.Max(1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes), Threads = threads };
        var members = new ClusterMembers(coordinator, nodes, joined, loggers?.CreateLogger("Tessera.Membership"));
        try
        {
            await members.StartAsync(cancellation).ConfigureAwait(false);
            if (joinListen is not null) members.AcceptJoins(joinListen, token);
            bool canGrow = joinListen is not null || nodes.Any(n => n.Address.StartsWith(MemberResolver.DnsPrefix, StringComparison.Ordinal));
            if (members.Current.Count == 0 && !canGrow)
            {
                throw new ClusterException(ClusterErrorCode.WorkerDown, $"no worker of the cluster answered ({string.Join(", ", nodes.Select(n => n.Address))})");
            }

            return new ServingCluster(coordinator, members, threads, strategy);
        }
        catch
        {
            await members.DisposeAsync().ConfigureAwait(false);
            await coordinator.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A coordinator without placed workers, for a plan that connects to the nodes it names.</summary>
    public static ServingCluster ForPlan(ClusterToken token, CoordinatorOptions? options = null) =>
        new(new ClusterCoordinator(token, options), null, 1, DeploymentStrategy.Data);

    public async ValueTask DisposeAsync()
    {
        if (_members is not null) await _members.DisposeAsync().ConfigureAwait(false);
        await Coordinator.DisposeAsync().ConfigureAwait(false);
    }
}
