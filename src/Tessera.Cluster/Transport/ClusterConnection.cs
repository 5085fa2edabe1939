using System.Net.Sockets;
using System.Security.Cryptography;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;

namespace Tessera.Cluster.Transport;

/// <summary>
/// An authenticated connection between two Tessera processes: the socket's stream with a frame reader and a frame
/// writer. Made only by <see cref="ConnectAsync"/> (client side) or <see cref="AcceptAsync"/> (server side), both
/// of which run the whole handshake, so an instance is always authenticated. Owns its socket.
/// </summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly SocketConnection _socket;
    private readonly SharedMemoryLink _sharedMemory;

    private ClusterConnection(SocketConnection socket, TransportLimits limits, ITensorAllocator? allocator = null)
    {
        _socket = socket;
        Limits = limits;
        Writer = new FrameWriter(socket.Stream, limits, socket.Abort);
        _sharedMemory = new SharedMemoryLink(limits, Writer, socket.Stream);
        Reader = new FrameReader(socket.Stream, limits, allocator, _sharedMemory);
    }

    public TransportLimits Limits { get; }

    /// <summary>Read by one loop only.</summary>
    public FrameReader Reader { get; }

    /// <summary>Safe for concurrent senders: messages do not interleave.</summary>
    public FrameWriter Writer { get; }

    public string RemoteEndPoint => _socket.RemoteEndPoint;

    public System.Net.IPAddress? LocalAddress => _socket.LocalAddress;

    /// <summary>The client id the connecting side sent in HELLO.</summary>
    public Guid ClientId { get; private set; }

    public ConnectionRole Role { get; private set; }

    /// <summary>The worker as it described itself in READY (client side only).</summary>
    public WorkerInfo? Worker { get; private set; }

    /// <summary>How this connection's tensors travel: "shared memory", or "TCP: " and why (docs/protocol.md).</summary>
    public string TensorPath => _sharedMemory.State;

    /// <summary>Raised with <see cref="TensorPath"/> when the peer's shared-memory offer or answer has been handled.</summary>
    public event Action<string>? TensorPathSettled
    {
        add => _sharedMemory.Settled += value;
        remove => _sharedMemory.Settled -= value;
    }

    /// <summary>Connects, proves the token, checks the server's proof, and returns the worker's description.</summary>
    /// <remarks>With <paramref name="tls"/>, TLS is set up first and the worker's certificate must chain to the cluster's roots.</remarks>
    public static async Task<ClusterConnection> ConnectAsync(string address, ClusterToken token, ConnectionRole role, Guid clientId, TransportLimits limits, CancellationToken cancellation, ClusterTls? tls = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limits.HandshakeTimeout);
        SocketConnection socket;
        try
        {
            socket = await SocketConnection.ConnectAsync(ClusterAddress.Parse(address), limits, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.WorkerDown, $"cannot connect to {address}: {(e is SocketException s ? s.SocketErrorCode.ToString() : "timed out")}");
        }

        if (tls is not null)
        {
            try
            {
                await socket.SecureAsClientAsync(tls, address, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await socket.DisposeAsync().ConfigureAwait(false);
                if (e is OperationCanceledException && !cancellation.IsCancellationRequested)
                {
                    throw new ClusterException(ClusterErrorCode.Timeout, $"{address} did not complete the TLS handshake within {limits.HandshakeTimeout.TotalSeconds:0.#} s");
                }

                throw;
            }
        }

        var connection = new ClusterConnection(socket, limits) { ClientId = clientId, Role = role };
        try
        {
            byte[] clientNonce = RandomNumberGenerator.GetBytes(Protocol.NonceBytes);
            await connection.Writer.SendAsync(FrameType.Hello, 0, new HelloMessage(Protocol.Version, role, clientId, clientNonce).Write(), timeout.Token).ConfigureAwait(false);
            var challenge = ChallengeMessage.Read(await connection.ExpectAsync(FrameType.Challenge, address, timeout.Token).ConfigureAwait(false));
            byte[] idBytes = clientId.ToByteArray();

            // Our proof goes first so that a worker refusing a wrong token says so (and logs it); it is bound to our
            // fresh nonce, so an impostor server cannot replay it. The server's proof is checked before READY is trusted.
            byte[] proof = token.Proof("tessera-client", challenge.Nonce, clientNonce, idBytes);
            await connection.Writer.SendAsync(FrameType.Auth, 0, new WireWriter().Bytes(proof), timeout.Token).ConfigureAwait(false);
            byte[] ready = await connection.ExpectAsync(FrameType.Ready, address, timeout.Token).ConfigureAwait(false);
            byte[] expected = token.Proof("tessera-server", clientNonce, challenge.Nonce, idBytes);
            if (!ClusterToken.Matches(expected, challenge.Proof))
            {
                throw new ClusterException(ClusterErrorCode.Unauthorized, $"{address} does not hold our cluster token (its proof does not match)");
            }

            connection.Worker = WorkerInfo.Read(ready);
            connection._sharedMemory.Authenticated = true;
            await connection._sharedMemory.OfferAsync(role, connection.Worker, timeout.Token).ConfigureAwait(false);

            // The caller goes on from a thread-pool thread, never from inside the handshake's last read: where socket
            // completions run on the socket engine's thread (workers, batch, bench-cluster), a caller's code run
            // there holds every socket of the process. A deployment planned there for seconds under load left its
            // workers' pongs unread, the heartbeat marked them down and the deploy failed ("the connection is closed").
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            return connection;
        }
        catch (Exception e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (e is OperationCanceledException && !cancellation.IsCancellationRequested)
            {
                throw new ClusterException(ClusterErrorCode.Timeout, $"{address} did not complete the handshake within {limits.HandshakeTimeout.TotalSeconds:0.#} s");
            }

            throw;
        }
    }

    /// <summary>
    /// Runs the server side of the handshake on an accepted socket. On a wrong version, a wrong proof or garbage it
    /// sends an Error frame, closes the socket and throws the classified <see cref="ClusterException"/>. Tensors received
    /// on the connection take their storage from <paramref name="allocator"/> (fresh tensors by default).
    /// </summary>
    public static async Task<ClusterConnection> AcceptAsync(Socket socket, ClusterToken token, Func<WorkerInfo> describe, TransportLimits limits, CancellationToken cancellation, ITensorAllocator? allocator = null, ClusterTls? tls = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limits.HandshakeTimeout);
        var secured = new SocketConnection(socket, limits);
        if (tls is not null)
        {
            try
            {
                await secured.SecureAsServerAsync(tls, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ClusterException or OperationCanceledException)
            {
                // No Error frame: a peer that does not speak TLS could not read one, and one that does failed TLS.
                await secured.DisposeAsync().ConfigureAwait(false);
                throw e as ClusterException ?? new ClusterException(ClusterErrorCode.Timeout, $"no TLS handshake within {limits.HandshakeTimeout.TotalSeconds:0.#} s");
            }
        }

        var connection = new ClusterConnection(secured, limits, allocator);
        try
        {
            var hello = HelloMessage.Read(await connection.ExpectAsync(FrameType.Hello, "client", timeout.Token).ConfigureAwait(false));
            connection.ClientId = hello.ClientId;
            connection.Role = hello.Role;
            byte[] idBytes = hello.ClientId.ToByteArray();
            byte[] serverNonce = RandomNumberGenerator.GetBytes(Protocol.NonceBytes);
            byte[] serverProof = token.Proof("tessera-server", hello.Nonce, serverNonce, idBytes);
            await connection.Writer.SendAsync(FrameType.Challenge, 0, new ChallengeMessage(Protocol.Version, serverNonce, serverProof).Write(), timeout.Token).ConfigureAwait(false);
            byte[] auth = await connection.ExpectAsync(FrameType.Auth, "client", timeout.Token).ConfigureAwait(false);
            byte[] expected = token.Proof("tessera-client", serverNonce, hello.Nonce, idBytes);
            if (auth.Length != Protocol.ProofBytes || !ClusterToken.Matches(expected, auth))
            {
                throw new ClusterException(ClusterErrorCode.Unauthorized, "authentication failed: the client does not hold the cluster token");
            }

            await connection.Writer.SendAsync(FrameType.Ready, 0, describe().Write(), timeout.Token).ConfigureAwait(false);
            connection._sharedMemory.Authenticated = true;
            return connection;
        }
        catch (Exception e) when (e is ClusterException or OperationCanceledException)
        {
            var error = e as ClusterException ?? new ClusterException(ClusterErrorCode.Timeout, $"no handshake within {limits.HandshakeTimeout.TotalSeconds:0.#} s");
            if (error.Code is not ClusterErrorCode.WorkerDown)
            {
                await connection.TrySendErrorAsync(0, error.Code, error.Message).ConfigureAwait(false);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            if (error != e)
            {
                throw error;
            }

            throw;
        }
    }

    /// <summary>Reads one frame that must be of <paramref name="type"/>; an Error frame becomes its exception.</summary>
    private async Task<byte[]> ExpectAsync(FrameType type, string peer, CancellationToken cancellation)
    {
        // A peer not yet authenticated gets no more memory than the largest handshake frame: not a 1 GiB tensor's.
        var frame = await Reader.ReadAsync(Limits.HandshakeTimeout, cancellation, maxPayloadBytes: Protocol.MaxHandshakeFrameBytes).ConfigureAwait(false)
            ?? throw new ClusterException(ClusterErrorCode.WorkerDown, $"{peer} closed the connection during the handshake");
        if (frame.Type == FrameType.Error && type != FrameType.Hello)
        {
            throw ErrorMessage.Read(frame.Payload).ToException($"{peer} refused the connection");
        }

        if (frame.Type != type)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"expected {type} in the handshake, got {frame.Type}");
        }

        return frame.Payload;
    }

    /// <summary>Sends an Error frame, ignoring a connection that is already gone (errors are best effort).</summary>
    public async Task TrySendErrorAsync(ulong requestId, ClusterErrorCode code, string message)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Writer.SendAsync(FrameType.Error, requestId, new ErrorMessage(code, message).Write(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ClusterException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _socket.DisposeAsync().ConfigureAwait(false);
        _sharedMemory.Dispose();
    }
}
