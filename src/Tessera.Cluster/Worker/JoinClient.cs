using System.Net;
using Microsoft.Extensions.Logging;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Worker;

/// <summary>
/// Joins a worker to a running coordinator (<c>tessera worker --join HOST:PORT</c>): announces the address the worker
/// serves on, keeps the join connection open, and joins again whenever it closes (coordinator restarted).
/// </summary>
internal static class JoinClient
{
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(WorkerServer server, string coordinator, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await ClusterConnection.ConnectAsync(coordinator, server.Options.Token, ConnectionRole.Joiner, server.Id, server.Options.Limits, stopping, server.Options.Tls).ConfigureAwait(false);
                string advertised = Advertised(server.Address, connection.LocalAddress);
                await connection.Writer.SendAsync(FrameType.Join, 1, new WireWriter().String(advertised), stopping).ConfigureAwait(false);
                var frame = await connection.Reader.ReadAsync(TimeSpan.FromSeconds(30), stopping).ConfigureAwait(false);
                if (frame is { Type: FrameType.Joined })
                {
                    WorkerLog.Joined(server.Logger, coordinator, advertised);
                    while (await connection.Reader.ReadAsync(Timeout.InfiniteTimeSpan, stopping).ConfigureAwait(false) is not null)
                    {
                    }
                }
            }
            catch (ClusterException e)
            {
                WorkerLog.JoinFailed(server.Logger, coordinator, e.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await Task.Delay(s_retry, stopping).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>A worker listening on every interface announces the address it reached the coordinator from.</summary>
    private static string Advertised(string listening, IPAddress? local)
    {
        var endPoint = (IPEndPoint)ClusterAddress.Parse(listening);
        bool any = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any);
        if (!any || local is null)
        {
            return listening;
        }

        return ClusterAddress.Format(new IPEndPoint(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local, endPoint.Port));
    }
}
