using System.Threading.Channels;
using Grpc.Core;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// A call of a bound method (<see cref="GrpcHandlerMethod{TRequest, TResponse}"/>) on the gRPC port: a method that
/// takes one request runs once the request ended; one that takes a stream runs from its headers, reading messages
/// as they arrive (the stream's window is given back as it reads them, so a handler that does not read holds the
/// client back). Its status is the handler's: grpc-status 0 (or what the handler set on its context), the
/// exception's status, or Grpc.AspNetCore's UNKNOWN for any other exception.
/// </summary>
internal sealed class GrpcMethodCall<TRequest, TResponse> : GrpcServerCall
    where TRequest : class
    where TResponse : class
{
    private readonly GrpcHandlerMethod<TRequest, TResponse> _method;
    private readonly Channel<RequestBuffer>? _requests;
    private readonly Http2CallContext _context;
    private RequestBuffer? _request;
    private byte[]? _headers;
    private bool _running;

    public GrpcMethodCall(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup, GrpcHandlerMethod<TRequest, TResponse> method)
        : base(stream, writer, setup)
    {
        _method = method;
        _context = new Http2CallContext(this, WriteHeadersAsync, stream.Fields);
        stream.Aborted.Token.Register(() => // on the connection's loop, as OnMessage and OnRequestEnd are
        {
            if (!_running) _request?.Dispose();
        });
        if (method.Method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming)
        {
            _requests = Channel.CreateUnbounded<RequestBuffer>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            Run(RunAsync);
        }
    }

    protected override bool CreditsOnArrival => _requests is null;

    protected override void OnMessage(RequestBuffer message)
    {
        if (_requests is not null)
        {
            if (!_requests.Writer.TryWrite(message)) message.Dispose();
            return;
        }

        if (_request is not null)
        {
            message.Dispose();
            throw ServingException.BadRequest($"malformed gRPC request: {_method.Method.Name} takes one request message, and the request has more");
        }

        _request = message;
    }

    protected override void OnRequestEnd()
    {
        if (_requests is not null)
        {
            _requests.Writer.TryComplete();
            return;
        }

        if (_request is null)
        {
            _ = EndAsync(StatusCode.Internal, "malformed gRPC request: the call has no request message");
            return;
        }

        _running = true;
        Run(RunAsync);
    }

    /// <summary>Sends the answer's headers now, with the handler's metadata (once; later messages follow them).</summary>
    public Task WriteHeadersAsync(Metadata metadata)
    {
        _headers ??= GrpcHeaderBlocks.Headers(200, metadata);
        return Writer.WriteAsync(Stream, _headers, [], null, Cancelled);
    }

    /// <summary>One response message; throws <see cref="OperationCanceledException"/> when the call is over.</summary>
    public async Task WriteAsync(TResponse message, CancellationToken cancellationToken)
    {
        var framed = new GrpcFramedMessage();
        _method.Method.ResponseMarshaller.ContextualSerializer(message, framed);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(Cancelled, cancellationToken);
        if (!await Writer.WriteAsync(Stream, _headers ?? GrpcHeaderBlocks.Response, [framed.Framed], null, linked.Token).ConfigureAwait(false))
        {
            throw new OperationCanceledException("the call is over: its stream was ended or reset");
        }
    }

    /// <summary>The next request message of a stream, or null once the client ended it.</summary>
    public async ValueTask<TRequest?> ReadAsync(CancellationToken cancellationToken)
    {
        var requests = _requests!;
        if (!await requests.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !requests.Reader.TryRead(out var message))
        {
            return null;
        }

        Stream.Consumed(message.Length + GrpcMessageReader.PrefixBytes);
        return Deserialize(message);
    }

    private async Task RunAsync()
    {
        try
        {
            var context = _context;
            switch (_method.Handler)
            {
                case UnaryServerMethod<TRequest, TResponse> unary:
                    var answer = await unary(Deserialize(_request!), context).ConfigureAwait(false);
                    await WriteAsync(answer, CancellationToken.None).ConfigureAwait(false);
                    break;
                case ServerStreamingServerMethod<TRequest, TResponse> serverStreaming:
                    await serverStreaming(Deserialize(_request!), new GrpcResponseStream<TRequest, TResponse>(this), context).ConfigureAwait(false);
                    break;
                case ClientStreamingServerMethod<TRequest, TResponse> clientStreaming:
                    var single = await clientStreaming(new GrpcRequestStream<TRequest, TResponse>(this), context).ConfigureAwait(false);
                    await WriteAsync(single, CancellationToken.None).ConfigureAwait(false);
                    break;
                case DuplexStreamingServerMethod<TRequest, TResponse> duplex:
                    await duplex(new GrpcRequestStream<TRequest, TResponse>(this), new GrpcResponseStream<TRequest, TResponse>(this), context).ConfigureAwait(false);
                    break;
            }

            await EndAsync(context.Status.StatusCode, context.Status.Detail, context.ResponseTrailers.Count > 0 ? context.ResponseTrailers : null).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await FailAsync(e).ConfigureAwait(false);
        }
        finally
        {
            _requests?.Writer.TryComplete();
            while (_requests?.Reader.TryRead(out var unread) == true) unread.Dispose();
        }
    }

    /// <summary>The message decoded by the method's marshaller; its block goes back to the pool (a ModelInferRequest's raw contents are copied into blocks of their own by <see cref="ReceivedBlocks"/>).</summary>
    private TRequest Deserialize(RequestBuffer message)
    {
        using (message)
        {
            try
            {
                return _method.Method.RequestMarshaller.ContextualDeserializer(new GrpcPayload(message));
            }
            catch (Google.Protobuf.InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"Failed to deserialize request message: {e.Message}"));
            }
        }
    }
}
