using Grpc.Core;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// The methods of the services on the gRPC port, by path: each service's generated BindService(binder, impl) adds
/// its methods here, as it does to Grpc.AspNetCore's binder, so every RPC of those services is served with its own
/// handler and marshallers.
/// </summary>
internal sealed class GrpcMethodTable : ServiceBinderBase
{
    private readonly Dictionary<string, GrpcServerMethod> _methods = new(StringComparer.Ordinal);
    private readonly ReceivedBlocks _received;

    /// <param name="received">Where ModelInferRequests are decoded, as <see cref="InferenceServiceMethods"/> has them decoded.</param>
    public GrpcMethodTable(ReceivedBlocks received)
    {
        _received = received;
    }

    /// <summary>The services whose names start the paths the table serves, for "unknown service" answers.</summary>
    public HashSet<string> Services { get; } = new(StringComparer.Ordinal);

    public GrpcServerMethod? Find(string path) => _methods.GetValueOrDefault(path);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) => Add(method, handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) => Add(method, handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) => Add(method, handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) => Add(method, handler);

    private void Add<TRequest, TResponse>(Method<TRequest, TResponse> method, Delegate? handler)
        where TRequest : class
        where TResponse : class
    {
        if (handler is null) return;
        var bound = InferenceServiceMethods.Decoded(method, _received);
        _methods[bound.FullName] = new GrpcHandlerMethod<TRequest, TResponse>(bound, handler);
        Services.Add(bound.ServiceName);
    }
}
