using Grpc.Core;
using Grpc.Core.Interceptors;
using Tessera.Serving.Http;

namespace Tessera.Serving.Grpc;

/// <summary>Refuses gRPC calls that <see cref="FrontDoorAccess"/> refuses, with UNAUTHENTICATED, before their handler runs.</summary>
internal sealed class ApiKeyInterceptor : Interceptor
{
    private readonly FrontDoorAccess _access;

    public ApiKeyInterceptor(FrontDoorAccess access)
    {
        _access = access;
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (_access.Refusal(context.Method, context.RequestHeaders.GetValue("authorization")) is { } refusal)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, refusal));
        }
    }
}
