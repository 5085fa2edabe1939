using Grpc.Core;
using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>A method with its generated descriptor and the one handler of its kind (unary, client streaming, server streaming, duplex).</summary>
internal sealed class GrpcHandlerMethod<TRequest, TResponse> : GrpcServerMethod
    where TRequest : class
    where TResponse : class
{
    public GrpcHandlerMethod(Method<TRequest, TResponse> method, Delegate handler)
    {
        Method = method;
        Handler = handler;
    }

    public Method<TRequest, TResponse> Method { get; }

    /// <summary>A UnaryServerMethod, ClientStreamingServerMethod, ServerStreamingServerMethod or DuplexStreamingServerMethod of the two types, as <see cref="Method"/>'s type says.</summary>
    public Delegate Handler { get; }

    public override GrpcServerCall Start(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup) => new GrpcMethodCall<TRequest, TResponse>(stream, writer, setup, this);
}
