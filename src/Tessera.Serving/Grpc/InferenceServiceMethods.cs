using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Tessera.Serving.Grpc.Wire;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Binds the generated service methods of <see cref="InferenceGrpcService"/> to the routes of
/// <see cref="InferenceGrpcEndpoint"/>, as the generated binding would, except that requests of type
/// ModelInferRequest (ModelInfer, ModelStreamInfer) are decoded by <see cref="ReceivedBlocks"/> into pooled blocks.
/// </summary>
internal sealed class InferenceServiceMethods : IServiceMethodProvider<InferenceGrpcEndpoint>
{
    private readonly InferenceGrpcService _service;

    public InferenceServiceMethods(InferenceGrpcService service)
    {
        _service = service;
    }

    /// <summary><paramref name="method"/>, with its requests decoded by <paramref name="received"/> when they are ModelInferRequests.</summary>
    public static Method<TRequest, TResponse> Decoded<TRequest, TResponse>(Method<TRequest, TResponse> method, ReceivedBlocks received)
        where TRequest : class
        where TResponse : class
    {
        if (method.RequestMarshaller is not Marshaller<ModelInferRequest> generated)
        {
            return method;
        }

        var marshaller = Marshallers.Create(generated.ContextualSerializer, received.Parse);
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, (Marshaller<TRequest>)(object)marshaller, method.ResponseMarshaller);
    }

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<InferenceGrpcEndpoint> context) =>
        GRPCInferenceService.BindService(new Binder(context, _service.Received), _service);

    private sealed class Binder : ServiceBinderBase
    {
        private readonly ServiceMethodProviderContext<InferenceGrpcEndpoint> _context;
        private readonly ReceivedBlocks _received;

        public Binder(ServiceMethodProviderContext<InferenceGrpcEndpoint> context, ReceivedBlocks received)
        {
            _context = context;
            _received = received;
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            _context.AddUnaryMethod(Decoded(method, _received), [], (_, request, call) => handler!(request, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            _context.AddDuplexStreamingMethod(Decoded(method, _received), [], (_, requests, responses, call) => handler!(requests, responses, call));
    }
}
