using Grpc.Core;

namespace Tessera.Serving.Grpc.Server;

/// <summary>The request messages of a streaming call, decoded as the handler reads them.</summary>
internal sealed class GrpcRequestStream<TRequest, TResponse> : IAsyncStreamReader<TRequest>
    where TRequest : class
    where TResponse : class
{
    private readonly GrpcMethodCall<TRequest, TResponse> _call;
    private TRequest? _current;

    public GrpcRequestStream(GrpcMethodCall<TRequest, TResponse> call)
    {
        _call = call;
    }

    public TRequest Current => _current ?? throw new InvalidOperationException("no message was read yet, or the stream ended");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_call.Cancelled, cancellationToken);
        _current = await _call.ReadAsync(linked.Token).ConfigureAwait(false);
        return _current is not null;
    }
}
