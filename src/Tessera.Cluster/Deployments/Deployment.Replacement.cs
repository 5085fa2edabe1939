using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// Re-placement: a deployment started with a <see cref="Replacement"/> watches its members. A worker of its
/// placements down longer than <see cref="DeploymentOptions.Grace"/> (or gone from the members) is planned around:
/// the model is placed again over the members that are up (a pipeline re-cut over the survivors, a tensor-parallel
/// group re-formed, whole-model replicas without it). A member up that the placements do not use (one that joined, or
/// came back after being planned around) gets work: whole-model replicas at once, a plan when the planner estimates
/// the new one faster. Placements are swapped whole; requests in flight finish on the old ones.
/// </summary>
public sealed partial class Deployment
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    // A plan must be estimated this much better than the current one to replace it (estimates are not exact).
    private const double FasterBy = 1.05;

    // Placements a deployment's start makes before it gives up on workers that keep going down under it.
    private const int PlacementAttempts = 3;

    private readonly Replacement? _replacement;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PlacementSet> _retired = [];
    private Task _watching = Task.CompletedTask;
    private TaskCompletionSource _reconsider = NewSignal();
    private string? _settled; // the up members last decided on (placed, kept, or failed): not decided again until they change
    private volatile string? _placeError;
    private volatile int _generation;

    private Deployment(string name, DeploymentModel model, PlacementSet placements, DeploymentOptions options, ILogger? logger, Replacement replacement)
        : this(name, model, placements, options, logger)
    {
        _replacement = replacement;
    }

    /// <summary>Counts the re-placements: the placements are replaced as a whole each time it changes.</summary>
    public int Generation => _generation;

    /// <summary>Why the model cannot be served now (no placement up, or none could be made); null while it can.</summary>
    public string? Unready => Placements.Any(p => p.IsUp) ? null : _placeError ?? Why([]);

    /// <summary>
    /// Places <paramref name="source"/>'s model over its members that are up and keeps it placed as they change.
    /// A plan that cannot be made is a <see cref="PartitionException"/>.
    /// </summary>
    public static async Task<Deployment> StartAsync(string name, Replacement source, DeploymentOptions options, ILogger? logger = null, CancellationToken cancellation = default)
    {
        var (placements, up) = await FirstPlacementAsync(name, source, options, logger, cancellation).ConfigureAwait(false);
        var model = placements.Plan is { } plan ? DeploymentModel.ForPlan(plan, placements.PlanDirectory!) : DeploymentModel.ForModel(source.Request.Model);
        var deployment = new Deployment(name, model, placements, options, logger, source) { _settled = Key(up) };
        deployment.Watch();
        return deployment;
    }

    /// <summary>
    /// Places the model over the members up. A worker that goes down while its sub-models are shipped (a restart, or
    /// a loaded host where it was briefly missed) fails the placement with <see cref="ClusterErrorCode.WorkerDown"/>:
    /// the members down for less than the grace period are then waited for, as a re-placement would, and the model is
    /// placed again over those up, at most <see cref="PlacementAttempts"/> times, so a deploy outlives a cluster that
    /// changes under it and never waits without bound.
    /// </summary>
    private static async Task<(PlacementSet Placements, List<Member> Up)> FirstPlacementAsync(string name, Replacement source, DeploymentOptions options, ILogger? logger, CancellationToken cancellation)
    {
        for (int attempt = 1; ; attempt++)
        {
            var up = source.Members().Where(m => m.Worker.IsUp).ToList();
            try
            {
                // No worker yet (a DNS name with no address, joins awaited): unready until one comes.
                return (up.Count == 0 ? new PlacementSet([]) : await Placer.PlaceAsync(source.Coordinator, source.Request, up, cancellation).ConfigureAwait(false), up);
            }
            catch (ClusterException e) when (e.Code == ClusterErrorCode.WorkerDown && attempt < PlacementAttempts && !cancellation.IsCancellationRequested)
            {
                DeploymentLog.PlacingAgain(logger ?? NullLogger.Instance, name, e.Message);
                await WaitForBriefAbsencesAsync(source, options.Grace, cancellation).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits, at most <paramref name="grace"/>, until no member is down for less than <paramref name="grace"/>: each is back or planned around.</summary>
    private static async Task WaitForBriefAbsencesAsync(Replacement source, TimeSpan grace, CancellationToken cancellation)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < grace && source.Members().Any(m => !m.Worker.IsUp && m.Worker.DownFor < grace))
        {
            await Task.Delay(CheckInterval, cancellation).ConfigureAwait(false);
        }
    }

    private void Watch()
    {
        var coordinator = _replacement!.Coordinator;
        coordinator.WorkerAdded += OnMembersChanged;
        coordinator.WorkerWentDown += OnMembersChanged;
        coordinator.WorkerRevived += OnMembersChanged;
        coordinator.WorkerRemoved += OnMembersChanged;
        _watching = Task.Run(WatchAsync);
    }

    private void OnMembersChanged(WorkerClient worker)
    {
        NotifyChanged();
        Interlocked.Exchange(ref _reconsider, NewSignal()).TrySetResult();
    }

    private async Task WatchAsync()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Volatile.Read(ref _reconsider).Task.WaitAsync(CheckInterval, stop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // periodic: a grace period may have run out
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await ReconsiderAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ClusterException or PartitionException or IOException or InvalidDataException)
            {
                _placeError = $"cannot place the model again: {e.Message}";
                DeploymentLog.PlacementFailed(_logger, Name, e.Message);
            }
        }
    }

    private async Task ReconsiderAsync(CancellationToken stop)
    {
        var source = _replacement!;
        var members = source.Members();
        var up = members.Where(m => m.Worker.IsUp).ToList();
        var used = Placements.SelectMany(p => p.Workers).Distinct().ToList();
        var lost = used.FirstOrDefault(w => (!w.IsUp && w.DownFor >= Options.Grace) || !members.Any(m => m.Worker == w));
        var added = up.FirstOrDefault(m => !used.Contains(m.Worker));
        string key = Key(up);
        if ((lost is null && added is null) || up.Count == 0 || key == _settled) return;

        _settled = key;
        string why = lost is not null
            ? $"worker {lost.Name} at {lost.Address} is down or gone ({lost.DownReason ?? "left the cluster"})"
            : $"worker {added!.Worker.Name} at {added.Worker.Address} is up and unused";
        if (lost is null && source.Request.Strategy != DeploymentStrategy.Data && Plan is { } current && up.Count > 1)
        {
            var candidate = Placer.Plan(source.Request, [.. up.Select(m => m.Planned(Placer.Calibration))]).Chosen;
            if (!Faster(candidate, current.Estimate, source.Request.Objective))
            {
                DeploymentLog.Kept(_logger, Name, why, up.Count);
                return;
            }
        }

        var next = await Placer.PlaceAsync(source.Coordinator, source.Request, up, stop).ConfigureAwait(false);
        PlacementSet old;
        lock (_retired)
        {
            old = _set;
            _set = next;
            _generation++;
            _retired.Add(old); // its sub-models stay on disk: a worker brought back may be sent them again
        }

        _placeError = null;
        DeploymentLog.Replaced(_logger, Name, why, next.ToString());
        NotifyChanged();
    }

    private static bool Faster(Candidate candidate, PlanEstimate current, PlanObjective objective) => objective == PlanObjective.Throughput
        ? candidate.ThroughputPerSecond > current.ThroughputPerSecond * FasterBy
        : candidate.LatencySeconds * FasterBy < current.LatencySeconds;

    private static string Key(IEnumerable<Member> up) => string.Join(",", up.Select(m => m.Worker.Address).Order(StringComparer.Ordinal));

    private async Task StopWatchingAsync()
    {
        if (_replacement is { } source)
        {
            source.Coordinator.WorkerAdded -= OnMembersChanged;
            source.Coordinator.WorkerWentDown -= OnMembersChanged;
            source.Coordinator.WorkerRevived -= OnMembersChanged;
            source.Coordinator.WorkerRemoved -= OnMembersChanged;
        }

        _stop.Cancel();
        await _watching.ConfigureAwait(false);
        lock (_retired)
        {
            foreach (var set in _retired) set.Dispose();
            _retired.Clear();
        }
    }
}
