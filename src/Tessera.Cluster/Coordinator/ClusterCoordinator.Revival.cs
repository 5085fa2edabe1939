using System.Collections.Concurrent;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Coordinator;

/// <summary>
/// Bringing down workers back: a worker marked down is probed every <see cref="CoordinatorOptions.ReconnectInterval"/>
/// (connect, HELLO and authentication; further apart after each time it answered but could not load its models);
/// once one answers, its client takes the new connection, gets every model it held made sure of again (shipped when the restarted worker's cache lacks the hash) and is marked up, so the routes
/// through it, which refer to the same client, carry requests again.
/// </summary>
public sealed partial class ClusterCoordinator
{
    private const int MaxBackoffDoublings = 5;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<WorkerClient, Task> _revivals = new();

    /// <summary>Raised when a worker that was down is up again (its models loaded).</summary>
    public event Action<WorkerClient>? WorkerRevived;

    /// <summary>Raised when a worker that was up goes down (its requests have failed).</summary>
    public event Action<WorkerClient>? WorkerWentDown;

    /// <summary>Called by a client as it goes down; one probe loop per client until it is up again.</summary>
    private void StartReviving(WorkerClient worker)
    {
        WorkerWentDown?.Invoke(worker);
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // Replaces the client's previous loop, which has ended: the client was up again before it could go down.
        _revivals[worker] = Task.Run(() => ReviveAsync(worker));
    }

    private async Task ReviveAsync(WorkerClient worker)
    {
        var stopping = _stopping.Token;
        int loadFailures = 0;
        try
        {
            while (true)
            {
                // A worker that answers but cannot take its models back (a smaller memory budget, a full disk) is
                // asked again less and less often, up to 32 intervals apart, so its warnings do not flood the log.
                await Task.Delay(Options.ReconnectInterval * (1 << Math.Min(loadFailures, MaxBackoffDoublings)), stopping).ConfigureAwait(false);
                if (worker.IsDisposed) return; // removed from the cluster
                ClusterConnection connection;
                try
                {
                    connection = await ClusterConnection.ConnectAsync(worker.Address, _token, ConnectionRole.Coordinator, Id, Options.Limits, stopping, Options.Tls).ConfigureAwait(false);
                }
                catch (ClusterException)
                {
                    continue; // not back yet (refused, timed out) or not ours (wrong token): try again later
                }

                if (!await worker.AttachAsync(connection).ConfigureAwait(false))
                {
                    return;
                }

                try
                {
                    foreach (var model in worker.Models.Values)
                    {
                        await EnsureModelAsync(worker, model, stopping).ConfigureAwait(false);
                    }
                }
                catch (ClusterException e)
                {
                    loadFailures++;
                    CoordinatorLog.ReviveFailed(Logger, worker.Address, e.Message);
                    worker.MarkDown($"came back but could not load its models again: {e.Message}");
                    continue;
                }

                if (worker.MarkUp())
                {
                    WorkerRevived?.Invoke(worker);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopRevivingAsync()
    {
        _stopping.Cancel();
        await Task.WhenAll(_revivals.Values).ConfigureAwait(false);
    }
}
