using System.Net;
using System.Net.Sockets;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Cluster.Membership;

/// <summary>
/// Lets workers join a running coordinator: a worker connects (authenticated like any connection), sends JOIN with the
/// address it serves on, and the coordinator connects to it as to any member. The join connection stays open so the
/// worker notices a coordinator restart and joins again.
/// </summary>
public sealed class JoinListener : IAsyncDisposable
{
    private readonly ClusterCoordinator _coordinator;
    private readonly ClusterToken _token;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public JoinListener(ClusterCoordinator coordinator, ClusterToken token, string listen)
    {
        _coordinator = coordinator;
        _token = token;
        var endPoint = (IPEndPoint)ClusterAddress.Parse(listen);
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(endPoint);
        _listener.Listen(64);
        Address = ClusterAddress.Format(_listener.LocalEndPoint!);
        _acceptLoop = AcceptLoopAsync();
    }

    public string Address { get; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                _ = ServeAsync(socket);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        string remote = socket.RemoteEndPoint?.ToString() ?? "?";
        ClusterConnection connection;
        try
        {
            connection = await ClusterConnection.AcceptAsync(socket, _token, () => new WorkerInfo("coordinator", 0, 0, 0, 0, 0), _coordinator.Options.Limits, _stop.Token, tls: _coordinator.Options.Tls).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClusterException or OperationCanceledException)
        {
            CoordinatorLog.JoinRefused(_coordinator.Logger, remote, e.Message);
            return;
        }

        await using (connection.ConfigureAwait(false))
        {
            try
            {
                var frame = await connection.Reader.ReadAsync(connection.Limits.HandshakeTimeout, _stop.Token).ConfigureAwait(false);
                if (frame is not { Type: FrameType.Join })
                {
                    throw new ClusterException(ClusterErrorCode.Malformed, "expected JOIN");
                }

                var r = new WireReader(frame.Payload);
                string address = r.String();
                r.End();
                // A worker the coordinator already knows (restarted, joining again) is brought back by its probes.
                if (!_coordinator.Workers.Any(w => w.Address == address))
                {
                    await _coordinator.ConnectAsync(address, _stop.Token).ConfigureAwait(false);
                }

                CoordinatorLog.Joined(_coordinator.Logger, address);
                await connection.Writer.SendAsync(FrameType.Joined, frame.RequestId, null, _stop.Token).ConfigureAwait(false);
                while (await connection.Reader.ReadAsync(Timeout.InfiniteTimeSpan, _stop.Token).ConfigureAwait(false) is not null)
                {
                }
            }
            catch (ClusterException e)
            {
                CoordinatorLog.JoinRefused(_coordinator.Logger, remote, e.Message);
                await connection.TrySendErrorAsync(0, e.Code, e.Message).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
    }
}
