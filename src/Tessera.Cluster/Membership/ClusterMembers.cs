using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Planning;

namespace Tessera.Cluster.Membership;

/// <summary>
/// The workers of a cluster as they change: the nodes of a cluster description (an address, or <c>dns:NAME:PORT</c>
/// for every address NAME resolves to, resolved again every <see cref="ResolveInterval"/>: a Kubernetes headless
/// service), and workers that join the coordinator (<see cref="JoinListener"/>). A new address is connected to and
/// becomes a member; an address a name no longer resolves to leaves (its client is closed). Members that are down
/// stay members (the coordinator probes them). Deployments read <see cref="Current"/> and hear the coordinator's events.
/// </summary>
public sealed class ClusterMembers : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly IReadOnlyList<ClusterNode> _entries;
    private readonly ClusterNode _joined;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, Member> _byAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _order = new(StringComparer.Ordinal); // description order; later ones after
    private int _nextOrder;
    private readonly HashSet<string> _unreachable = new(StringComparer.Ordinal);
    private readonly HashSet<string> _connecting = new(StringComparer.Ordinal); // asked for by this set, not joined
    private Task _resolving = Task.CompletedTask;
    private JoinListener? _joins;

    /// <param name="entries">The nodes of a cluster description; an address may be <c>dns:NAME:PORT</c>.</param>
    /// <param name="joined">How the planner sees a worker that joins (its name and address are the worker's own).</param>
    public ClusterMembers(ClusterCoordinator coordinator, IReadOnlyList<ClusterNode> entries, ClusterNode joined, ILogger? logger = null)
    {
        Coordinator = coordinator;
        _entries = entries;
        _joined = joined;
        _logger = logger ?? NullLogger.Instance;
        coordinator.WorkerAdded += OnWorkerAdded;
    }

    public ClusterCoordinator Coordinator { get; }

    /// <summary>How often <c>dns:</c> entries are resolved again.</summary>
    public TimeSpan ResolveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The members now: the description's in its order (a name's addresses sorted), then those that came later.</summary>
    public IReadOnlyList<Member> Current
    {
        get
        {
            lock (_lock) return [.. _byAddress.Values.OrderBy(m => _order[m.Worker.Address])];
        }
    }

    /// <summary>The address workers join at, once <see cref="AcceptJoins"/> was called.</summary>
    public string? JoinAddress => _joins?.Address;

    /// <summary>Resolves and connects to every entry (unreachable ones are logged and tried again later), then keeps resolving.</summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        await RefreshAsync(cancellation).ConfigureAwait(false);
        if (_entries.Any(e => e.Address.StartsWith(MemberResolver.DnsPrefix, StringComparison.Ordinal)) || _unreachable.Count > 0)
        {
            _resolving = Task.Run(ResolveLoopAsync);
        }
    }

    /// <summary>Accepts workers that join (`tessera worker --join ADDRESS`) at <paramref name="listen"/>.</summary>
    public void AcceptJoins(string listen, ClusterToken token) => _joins = new JoinListener(Coordinator, token, listen);

    private async Task ResolveLoopAsync()
    {
        var stop = _stop.Token;
        try
        {
            while (true)
            {
                await Task.Delay(ResolveInterval, stop).ConfigureAwait(false);
                await RefreshAsync(stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Resolves every entry; connects to new addresses, lets go of addresses a name no longer gives.</summary>
    private async Task RefreshAsync(CancellationToken cancellation)
    {
        var wanted = new Dictionary<string, ClusterNode>(StringComparer.Ordinal);
        var failedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in _entries)
        {
            IReadOnlyList<string> addresses;
            try
            {
                addresses = await MemberResolver.ResolveAsync([entry.Address], cancellation).ConfigureAwait(false);
            }
            catch (ClusterException e)
            {
                // Unreachable DNS: keep what the name gave before, say so once per failure streak.
                if (_unreachable.Add(entry.Address)) MembershipLog.ResolveFailed(_logger, entry.Address, e.Message);
                failedNames.Add(entry.Name);
                continue;
            }

            _unreachable.Remove(entry.Address);
            bool named = entry.Address.StartsWith(MemberResolver.DnsPrefix, StringComparison.Ordinal);
            foreach (string address in addresses)
            {
                wanted[address] = NodeFor(entry, address, named);
                lock (_lock) _order.TryAdd(address, _nextOrder++);
            }
        }

        var connecting = wanted.Where(kv => !IsMember(kv.Key)).Select(kv => ConnectAsync(kv.Key, kv.Value, cancellation)).ToArray();
        await Task.WhenAll(connecting).ConfigureAwait(false);

        // Addresses a dns entry gave before and gives no more: the pod is gone.
        List<Member> gone;
        lock (_lock)
        {
            gone = [.. _byAddress.Values.Where(m => FromDns(m) is { } name && !failedNames.Contains(name) && !wanted.ContainsKey(m.Worker.Address))];
            foreach (var m in gone) _byAddress.Remove(m.Worker.Address);
        }

        foreach (var m in gone)
        {
            MembershipLog.Left(_logger, m.Worker.Address);
            await Coordinator.RemoveAsync(m.Worker).ConfigureAwait(false);
        }
    }

    private async Task ConnectAsync(string address, ClusterNode node, CancellationToken cancellation)
    {
        lock (_lock) _connecting.Add(address);
        try
        {
            var worker = await Coordinator.ConnectAsync(address, cancellation).ConfigureAwait(false);
            Add(worker, node);
            _unreachable.Remove(address);
        }
        catch (ClusterException e)
        {
            lock (_lock)
            {
                if (_unreachable.Add(address)) MembershipLog.Unreachable(_logger, address, e.Message);
            }
        }
        finally
        {
            lock (_lock) _connecting.Remove(address);
        }
    }

    /// <summary>A worker the coordinator connected to that this set did not ask for: one that joined.</summary>
    private void OnWorkerAdded(WorkerClient worker)
    {
        lock (_lock)
        {
            if (_byAddress.ContainsKey(worker.Address) || _connecting.Contains(worker.Address)) return;
        }

        Add(worker, new ClusterNode { Name = $"{worker.Name}@{worker.Address}", Address = worker.Address, MemoryBytes = _joined.MemoryBytes, Speed = _joined.Speed, Threads = Math.Max(1, worker.Info.Threads) });
    }

    private void Add(WorkerClient worker, ClusterNode node)
    {
        lock (_lock)
        {
            _order.TryAdd(worker.Address, _nextOrder++);
            _byAddress.TryAdd(worker.Address, new Member(node, worker));
        }
    }

    private bool IsMember(string address)
    {
        lock (_lock) return _byAddress.ContainsKey(address);
    }

    /// <summary>The entry name of a member that came from a <c>dns:</c> entry, else null.</summary>
    private string? FromDns(Member m) => _entries.FirstOrDefault(e => e.Address.StartsWith(MemberResolver.DnsPrefix, StringComparison.Ordinal) && m.Node.Name.StartsWith(e.Name + "@", StringComparison.Ordinal))?.Name;

    private static ClusterNode NodeFor(ClusterNode entry, string address, bool named) => new()
    {
        // One node per address a name gives: "workers@10.0.0.7:7000".
        Name = named ? $"{entry.Name}@{address}" : entry.Name,
        Address = address,
        MemoryBytes = entry.MemoryBytes,
        Speed = entry.Speed,
        Threads = entry.Threads,
    };

    public async ValueTask DisposeAsync()
    {
        Coordinator.WorkerAdded -= OnWorkerAdded;
        _stop.Cancel();
        await _resolving.ConfigureAwait(false);
        if (_joins is not null) await _joins.DisposeAsync().ConfigureAwait(false);
    }
}
