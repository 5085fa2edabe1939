using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tessera.Serving.Grpc.Server;

namespace Tessera.Serving.Http;

/// <summary>Kestrel's listeners and limits for a server: the REST port (HTTP/1.1), the gRPC port (HTTP/2), TLS on both when a certificate is given.</summary>
internal static class KestrelSetup
{
    /// <summary>What the gRPC port's own HTTP/2 server announces: the limits Kestrel's HTTP/2 gets below.</summary>
    public static Http2.Http2Limits Http2Limits(ServerOptions options) => new()
    {
        MaxConcurrentStreams = options.MaxStreamsPerConnection,
        MaxHeaderListSize = options.MaxHeaderBytes,
    };

    /// <summary>Binds the ports; returns their listen options, which carry the real ports once the server started.</summary>
    public static (ListenOptions Http, ListenOptions? Grpc) Configure(KestrelServerOptions kestrel, ServerOptions options)
    {
        kestrel.AddServerHeader = false;
        var limits = kestrel.Limits;
        limits.MaxRequestBodySize = null; // enforced by RequestBody and gRPC's message limit, which answer with the protocol's errors
        limits.MaxRequestHeadersTotalSize = options.MaxHeaderBytes;
        limits.Http2.MaxRequestHeaderFieldSize = options.MaxHeaderBytes;
        limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        limits.Http2.InitialConnectionWindowSize = 32 << 20; // large tensors: keep the window from stalling each stream
        limits.Http2.InitialStreamWindowSize = 16 << 20;
        limits.Http2.MaxFrameSize = 1 << 20; // clients that honour it (gRPC's C core) send large tensors in fewer frames
        var http = ListenAddress.Bind(kestrel, options.Url, o => Listen(o, HttpProtocols.Http1, options));
        var grpc = options.GrpcUrl is null ? null : ListenAddress.Bind(kestrel, options.GrpcUrl, o =>
        {
            Listen(o, HttpProtocols.Http2, options);
            if (options.GrpcServer == GrpcServerKind.Own) o.UseConnectionHandler<GrpcConnectionHandler>(); // after TLS: its ALPN still offers h2
        });
        return (http, grpc);
    }

    private static void Listen(ListenOptions listen, HttpProtocols protocols, ServerOptions options)
    {
        listen.Protocols = protocols;
        if (options.Certificate is { } certificate)
        {
            listen.UseHttps(certificate); // gRPC over TLS negotiates h2 by ALPN
        }
    }
}
