using Microsoft.Extensions.Logging;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Worker;

/// <summary>
/// The worker's own connections to other workers (next pipeline stages, collective partners), one per address,
/// authenticated with the same token. A link whose connection ends is dropped and made again on next use.
/// </summary>
internal sealed class PeerLinks : IAsyncDisposable
{
    private readonly WorkerOptions _options;
    private readonly Guid _selfId;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Task<ClusterConnection>> _links = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public PeerLinks(WorkerOptions options, Guid selfId, ILogger logger)
    {
        _options = options;
        _selfId = selfId;
        _logger = logger;
    }

    /// <summary>
    /// Raised with the address and why when a link's connection ends (the peer closed it or died), so that collectives
    /// waiting for that peer stop at once instead of at their timeout.
    /// </summary>
    public event Action<string, string>? Lost;

    /// <summary>An open link to <paramref name="address"/>, connecting when there is none.</summary>
    public async Task<ClusterConnection> GetAsync(string address, CancellationToken cancellation)
    {
        Task<ClusterConnection> task;
        lock (_lock)
        {
            if (!_links.TryGetValue(address, out task!) || task.IsFaulted || task.IsCanceled)
            {
                task = ConnectAsync(address);
                _links[address] = task;
            }
        }

        return await task.WaitAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>Forgets a link after a failed send, so that the next use reconnects.</summary>
    public void Drop(string address, ClusterConnection connection)
    {
        lock (_lock)
        {
            if (_links.TryGetValue(address, out var task) && task.IsCompletedSuccessfully && task.Result == connection)
            {
                _links.Remove(address);
            }
        }

        _ = connection.DisposeAsync().AsTask();
    }

    private async Task<ClusterConnection> ConnectAsync(string address)
    {
        var connection = await ClusterConnection.ConnectAsync(address, _options.Token, ConnectionRole.Peer, _selfId, _options.Limits, CancellationToken.None, _options.Tls).ConfigureAwait(false);
        WorkerLog.PeerConnected(_logger, address);
        _ = DrainAsync(address, connection);
        return connection;
    }

    /// <summary>Peers answer nothing on a link but an Error before closing; reading notices the close.</summary>
    private async Task DrainAsync(string address, ClusterConnection connection)
    {
        string reason = "closed its connection";
        try
        {
            while (await connection.Reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false) is not null)
            {
            }
        }
        catch (ClusterException e)
        {
            reason = "dropped its connection: " + e.Message;
        }

        Drop(address, connection);
        Lost?.Invoke(address, reason);
    }

    public async ValueTask DisposeAsync()
    {
        Task<ClusterConnection>[] links;
        lock (_lock)
        {
            links = [.. _links.Values];
            _links.Clear();
        }

        foreach (var link in links.Where(l => l.IsCompletedSuccessfully))
        {
            await link.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
