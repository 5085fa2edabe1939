using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Tessera.Cluster.Collective;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Partitioning.Cost;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A worker: accepts authenticated connections, stores and loads models, runs pipeline stages (and ranks of
/// tensor-parallel stages, exchanging collective blocks with the other ranks' workers) and forwards their
/// tensors to the next stage's worker. Every failure is contained in the connection or request it belongs to.
/// </summary>
public sealed class WorkerServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<ClusterConnection, Task> _connections = new();
    private readonly ConcurrentDictionary<Guid, ClusterConnection> _coordinators = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _inFlight;

    public WorkerServer(WorkerOptions options, ILoggerFactory loggers)
    {
        Options = options;
        Logger = loggers.CreateLogger("Tessera.Worker");
        Peers = new PeerLinks(options, Id, Logger);
        Peers.Lost += (address, reason) => Collectives.AbortPeer(address, reason);
        Models = new ModelStore(options, Logger, () => new NetworkCommunicator(Collectives, Peers, options.CollectiveTimeout), Tensors);
        Executor = new StageExecutor(this);
        var endPoint = ClusterAddress.Parse(options.Listen) as IPEndPoint
            ?? throw new ClusterException(ClusterErrorCode.BadRequest, $"--listen needs an IP address, not a name: {options.Listen}");
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            _listener.Bind(endPoint);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new ClusterException(ClusterErrorCode.BadRequest, $"cannot listen on {options.Listen}: {e.SocketErrorCode}");
        }

        Address = ClusterAddress.Format(_listener.LocalEndPoint!);
        // This worker's speed, for deployments that split batches by it and plans of nodes whose speed is "measure".
        MatrixFlopsPerSecond = (ulong)Calibrator.MatrixProductRate(Math.Max(1, options.Threads));
    }

    /// <summary>Matrix-product flop/s measured at start on the worker's threads.</summary>
    public ulong MatrixFlopsPerSecond { get; }

    /// <summary>The address actually bound (with the port chosen when 0 was asked for).</summary>
    public string Address { get; }

    /// <summary>This worker's client id when it connects to peers.</summary>
    public Guid Id { get; } = Guid.NewGuid();

    public WorkerOptions Options { get; }

    internal ILogger Logger { get; }

    internal ModelStore Models { get; }

    internal PeerLinks Peers { get; }

    /// <summary>Collective blocks other ranks sent here, until the rank's model thread takes them.</summary>
    internal CollectiveInbox Collectives { get; } = new();

    /// <summary>Storage of received tensors and stage outputs, recycled once a request's tensors have been sent on.</summary>
    internal TensorPool Tensors { get; } = new();

    internal StageExecutor Executor { get; }

    public string Name => Options.Name ?? Address;

    public void Start()
    {
        _listener.Listen(512);
        string budget = Options.MemoryBudget > 0 ? $"{Options.MemoryBudget} bytes" : "none";
        WorkerLog.Listening(Logger, Address, Options.CacheDirectory, Options.Threads, budget);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Joins the coordinator whose join listener is at <paramref name="coordinator"/>, again after each disconnect.</summary>
    public void JoinCoordinator(string coordinator) => _ = JoinClient.RunAsync(this, coordinator, _stopping.Token);

    /// <summary>Completes when the server stops.</summary>
    public Task Completion => _acceptLoop;

    internal WorkerInfo Describe() =>
        new(Name, Options.Threads, Options.MemoryBudget, Models.MemoryUsed, (uint)Volatile.Read(ref _inFlight), (uint)Models.LoadedCount, MatrixFlopsPerSecond, Environment.ProcessorCount, HostIdentity.BootId)
        {
            TensorBytesSent = WireCounters.TensorBytesSent,
        };

    internal void RequestStarted() => Interlocked.Increment(ref _inFlight);

    internal void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    internal bool TryGetCoordinator(Guid id, out ClusterConnection connection) => _coordinators.TryGetValue(id, out connection!);

    internal void AddCoordinator(ClusterConnection connection) => _coordinators[connection.ClientId] = connection;

    internal void RemoveCoordinator(ClusterConnection connection) =>
        _coordinators.TryRemove(new KeyValuePair<Guid, ClusterConnection>(connection.ClientId, connection));

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                // A connection that died in the backlog; keep accepting the others.
                continue;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        string remote = socket.RemoteEndPoint?.ToString() ?? "?";
        ClusterConnection connection;
        try
        {
            connection = await ClusterConnection.AcceptAsync(socket, Options.Token, Describe, Options.Limits, _stopping.Token, Tensors, Options.Tls).ConfigureAwait(false);
        }
        catch (ClusterException e) when (e.Code == ClusterErrorCode.WorkerDown)
        {
            // Closed before a word: a TCP health probe (Kubernetes' tcpSocket), not worth a warning every few seconds.
            WorkerLog.ClosedInHandshake(Logger, remote);
            return;
        }
        catch (ClusterException e)
        {
            WorkerLog.Refused(Logger, remote, e.Code, e.Message);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        WorkerLog.Authenticated(Logger, remote, connection.Role, connection.ClientId);
        connection.TensorPathSettled += path => WorkerLog.TensorPath(Logger, remote, path);
        var handler = new WorkerConnectionHandler(this, connection);
        var task = handler.RunAsync(_stopping.Token);
        _connections[connection] = task;
        await task.ConfigureAwait(false);
        _connections.TryRemove(connection, out _);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await Peers.DisposeAsync().ConfigureAwait(false);
        Models.Dispose();
    }
}
