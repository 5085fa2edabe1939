using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// One gRPC unary method called as the protocol lays it on HTTP/2 (a POST of the length-prefixed message with
/// content-type application/grpc, the answer's status in the grpc-status trailer) on a connection of its own
/// (<see cref="Http2UnaryConnection"/>: opened at the first call, and again after a call that failed on it), with
/// the request framed once and every answer counted, not kept: its prefix and length are checked.
/// </summary>
internal sealed class GrpcWireCall : IDisposable
{
    private const int PrefixBytes = 5; // compressed flag, then the message length (big endian)

    private readonly string _host;
    private readonly int _port;
    private readonly byte[] _headerBlock;
    private readonly byte[] _framed;
    private readonly TimeSpan _timeout;
    private Http2UnaryConnection? _connection;

    /// <param name="target">HOST:PORT of the gRPC server (cleartext HTTP/2 with prior knowledge).</param>
    /// <param name="path">the method's path, e.g. /inference.GRPCInferenceService/ModelInfer.</param>
    /// <param name="framed">the message with its prefix (<see cref="Frame"/>); only read, so calls can share it.</param>
    public GrpcWireCall(string target, string path, byte[] framed, TimeSpan timeout)
    {
        var uri = new Uri("http://" + target);
        _host = uri.IdnHost;
        _port = uri.Port;
        _headerBlock = HpackFields.Request(uri.Authority, path);
        _framed = framed;
        _timeout = timeout;
    }

    /// <summary>The message as a gRPC body: uncompressed, prefixed with its length.</summary>
    public static byte[] Frame(byte[] message)
    {
        var framed = new byte[PrefixBytes + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, PrefixBytes);
        return framed;
    }

    public void Dispose() => Drop();

    /// <summary>
    /// Opens the connection ahead of the first call; a failure is left to that call, which tries again and counts it.
    /// </summary>
    public async Task ConnectAsync(CancellationToken ct)
    {
        using var late = CancellationTokenSource.CreateLinkedTokenSource(ct);
        late.CancelAfter(_timeout);
        try
        {
            _connection ??= await Http2UnaryConnection.ConnectAsync(_host, _port, late.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or SocketException or OperationCanceledException)
        {
            Drop(); // SendAsync opens it again, and counts the error if it fails there too
        }
    }

    /// <summary>Null when the call ended with grpc-status 0 and one whole message, else the error key.</summary>
    public async Task<string?> SendAsync(CancellationToken ct)
    {
        using var late = CancellationTokenSource.CreateLinkedTokenSource(ct);
        late.CancelAfter(_timeout);
        UnaryAnswer answer;
        try
        {
            _connection ??= await Http2UnaryConnection.ConnectAsync(_host, _port, late.Token).ConfigureAwait(false);
            answer = await _connection.CallAsync(_headerBlock, _framed, late.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            Drop(); // the connection is somewhere inside a frame: the next call opens another
            if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            return late.IsCancellationRequested ? "timeout" : RequestOutcome.Failure(e);
        }

        if (answer.HttpStatus is not 200)
        {
            return answer.HttpStatus is int status ? RequestOutcome.Status((HttpStatusCode)status) : $"http2 stream reset ({answer.ResetCode})";
        }

        if (answer.GrpcStatus != "0")
        {
            return answer.GrpcStatus is not null && int.TryParse(answer.GrpcStatus, out int code) ? "grpc " + (Grpc.Core.StatusCode)code : "grpc no status";
        }

        return answer.WholeMessage ? null : "grpc malformed answer";
    }

    private void Drop()
    {
        _connection?.Dispose();
        _connection = null;
    }
}
