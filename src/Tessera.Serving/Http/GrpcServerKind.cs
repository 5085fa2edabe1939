namespace Tessera.Serving.Http;

/// <summary>What serves the gRPC port's HTTP/2.</summary>
internal enum GrpcServerKind
{
    /// <summary>Tessera's own HTTP/2 server (<see cref="Grpc.Server.GrpcConnectionHandler"/>): calls start on the connection's loop, no thread-pool hop per stream.</summary>
    Own,

    /// <summary>Kestrel's HTTP/2 with Grpc.AspNetCore (and ModelInfer's own unary path ahead of it, <see cref="Grpc.ModelInferEndpoint"/>).</summary>
    AspNetCore,
}
