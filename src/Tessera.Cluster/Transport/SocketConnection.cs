using System.Net;
using System.Net.Sockets;

namespace Tessera.Cluster.Transport;

/// <summary>
/// A TCP connection as one byte stream that the frame reader and writer use directly: no receive or send loop and
/// no intermediate pipe, so a tensor goes from its storage into the kernel and from the kernel into its storage, and
/// backpressure is TCP's own window (a reader that does not read stops the writer).
/// </summary>
/// <remarks>Owns the socket; <see cref="DisposeAsync"/> closes it, which ends a pending read.</remarks>
public sealed class SocketConnection : IAsyncDisposable
{
    private const int SocketBufferBytes = 4 << 20;
    private readonly Socket _socket;
    private int _disposed;

    public SocketConnection(Socket socket, TransportLimits limits)
    {
        _socket = socket;
        _socket.NoDelay = true;
        // Large kernel buffers let a multi-megabyte tensor stream without the sender waiting on every window.
        _socket.SendBufferSize = SocketBufferBytes;
        _socket.ReceiveBufferSize = SocketBufferBytes;
        RemoteEndPoint = socket.RemoteEndPoint?.ToString() ?? "?";
        LocalAddress = (socket.LocalEndPoint as IPEndPoint)?.Address;
        // Synchronous writes (collective blocks from a kernel's thread) are bounded by the socket's send timeout.
        Stream = new NetworkStream(socket, ownsSocket: false) { WriteTimeout = (int)Math.Min(int.MaxValue, limits.ReadTimeout.TotalMilliseconds) };
    }

    public string RemoteEndPoint { get; }

    /// <summary>Our side's IP address on this connection (what a peer on that network can reach us at).</summary>
    public IPAddress? LocalAddress { get; }

    /// <summary>The connection's bytes, both ways: one reader and one writer at a time may use it concurrently.</summary>
    public Stream Stream { get; private set; }

    /// <summary>Puts TLS (client side) under everything sent from now on.</summary>
    public async Task SecureAsClientAsync(ClusterTls tls, string address, CancellationToken cancellation) =>
        Stream = await tls.ConnectAsync(Stream, address, cancellation).ConfigureAwait(false);

    /// <summary>Puts TLS (server side) under everything sent from now on.</summary>
    public async Task SecureAsServerAsync(ClusterTls tls, CancellationToken cancellation) =>
        Stream = await tls.AcceptAsync(Stream, cancellation).ConfigureAwait(false);

    /// <summary>Opens a TCP connection to HOST:PORT.</summary>
    public static async Task<SocketConnection> ConnectAsync(EndPoint endPoint, TransportLimits limits, CancellationToken cancellation)
    {
        // A dual-mode socket reaches IPv4, IPv6 and DNS end points alike.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, cancellation).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new SocketConnection(socket, limits);
    }

    /// <summary>Closes the connection at once (after a torn write): both directions end for us and for the peer.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes the socket; what was written is still delivered, a pending read ends.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Abort();
        Stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
