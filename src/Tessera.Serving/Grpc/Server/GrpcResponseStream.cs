using Grpc.Core;

namespace Tessera.Serving.Grpc.Server;

/// <summary>The response messages of a streaming call, each written as a DATA frame when the windows allow.</summary>
internal sealed class GrpcResponseStream<TRequest, TResponse> : IServerStreamWriter<TResponse>
    where TRequest : class
    where TResponse : class
{
    private readonly GrpcMethodCall<TRequest, TResponse> _call;

    public GrpcResponseStream(GrpcMethodCall<TRequest, TResponse> call)
    {
        _call = call;
    }

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(TResponse message) => _call.WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(TResponse message, CancellationToken cancellationToken) => _call.WriteAsync(message, cancellationToken);
}
