using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// The gRPC port's connections, taken from Kestrel after its transport (and TLS, whose ALPN offers h2) with their
/// pipes, and served by <see cref="Http2Connection"/>: no HTTP/2 of Kestrel's, no Grpc.AspNetCore. A server stop
/// asks each connection to close: GOAWAY, then the calls under way finish.
/// </summary>
internal sealed class GrpcConnectionHandler : ConnectionHandler
{
    private readonly Lazy<GrpcDispatcher> _dispatcher;
    private readonly Http2Limits _limits;

    /// <param name="dispatcher">Made on the first connection: Kestrel builds its handlers while it is configured, before the server's models and keys are loaded.</param>
    public GrpcConnectionHandler(Func<GrpcDispatcher> dispatcher, Http2Limits limits)
    {
        _dispatcher = new(dispatcher);
        _limits = limits;
    }

    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        return new Http2Connection(connection.Transport, _dispatcher.Value, _limits).RunAsync(closeRequested);
    }
}
