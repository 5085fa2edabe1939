using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>A bound method of a service, as <see cref="GrpcMethodTable"/> found it: starts its calls.</summary>
internal abstract class GrpcServerMethod
{
    public abstract GrpcServerCall Start(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup);
}
