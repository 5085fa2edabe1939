using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Tessera.Cluster.Transport;

/// <summary>
/// A TCP connection as two pipes, after Kestrel's socket transport: a receive loop fills <see cref="Input"/> from the
/// socket, a send loop drains <see cref="Output"/> into it. Backpressure comes from the pipe thresholds: the receive
/// loop stops reading from the socket while the application has too much unread data, and writers wait in
/// FlushAsync while the socket cannot take more.
/// </summary>
/// <remarks>Owns the socket; <see cref="DisposeAsync"/> closes it and waits for both loops.</remarks>
public sealed class SocketConnection : IAsyncDisposable
{
    private const int MinimumReceiveBuffer = 256 * 1024;
    private const int SocketBufferBytes = 4 << 20;
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _receiveTask;
    private readonly Task _sendTask;
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
        var options = new PipeOptions(
            pauseWriterThreshold: limits.PauseThresholdBytes,
            resumeWriterThreshold: limits.PauseThresholdBytes / 2,
            minimumSegmentSize: MinimumReceiveBuffer,
            useSynchronizationContext: false);
        _input = new Pipe(options);
        _output = new Pipe(options);
        _receiveTask = ReceiveLoopAsync();
        _sendTask = SendLoopAsync();
    }

    public string RemoteEndPoint { get; }

    /// <summary>Our side's IP address on this connection (what a peer on that network can reach us at).</summary>
    public IPAddress? LocalAddress { get; }

    /// <summary>Bytes received from the peer.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Bytes to send to the peer.</summary>
    public PipeWriter Output => _output.Writer;

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

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        Exception? error = null;
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(MinimumReceiveBuffer);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset, aborted or closed under us: the reader sees the end of the stream (a truncated frame if mid-frame).
            error = IsConnectionGone(e) ? null : e;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    for (var rest = segment; !rest.IsEmpty;)
                    {
                        int sent = await _socket.SendAsync(rest, SocketFlags.None).ConfigureAwait(false);
                        rest = rest[sent..];
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer went away; writers learn it when their next flush reports completion.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool IsConnectionGone(Exception e) => e is ObjectDisposedException || e is SocketException
    {
        SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.OperationAborted or SocketError.Interrupted
    };

    /// <summary>Stops both loops and closes the socket; pending reads end, pending writes complete.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        // Give the send loop a moment to flush what is queued (a final Error frame), then close.
        await Task.WhenAny(_sendTask, Task.Delay(200)).ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await Task.WhenAll(_receiveTask, _sendTask).ConfigureAwait(false);
    }
}
