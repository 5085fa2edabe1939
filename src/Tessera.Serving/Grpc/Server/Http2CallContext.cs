using Grpc.Core;

namespace Tessera.Serving.Grpc.Server;

/// <summary>The ServerCallContext handlers see on the gRPC port's own server: the request's metadata, deadline and cancellation, the status and trailers they set.</summary>
internal sealed class Http2CallContext : ServerCallContext
{
    private readonly GrpcServerCall _call;
    private readonly Func<Metadata, Task> _writeHeaders;
    private readonly Metadata _requestHeaders = [];
    private readonly Metadata _responseTrailers = [];
    private readonly string _host;

    /// <param name="writeHeaders">Sends the answer's headers with the handler's metadata.</param>
    public Http2CallContext(GrpcServerCall call, Func<Metadata, Task> writeHeaders, List<KeyValuePair<string, string>> fields)
    {
        _call = call;
        _writeHeaders = writeHeaders;
        _host = "";
        foreach (var (name, value) in fields)
        {
            if (name == ":authority") _host = value;
            if (name.StartsWith(':') || name is "content-type" or "te" or "grpc-timeout" or "grpc-encoding" or "grpc-accept-encoding") continue;
            if (!IsMetadataKey(name)) continue; // a name gRPC's Metadata refuses (uppercase, spaces, '!'...): no handler can read it
            if (!name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal))
            {
                _requestHeaders.Add(name, value);
            }
            else if (TryBase64(value, out var bytes))
            {
                _requestHeaders.Add(name, bytes);
            }
        }
    }

    protected override string MethodCore => _call.Path;

    protected override string HostCore => _host;

    protected override string PeerCore => "";

    protected override DateTime DeadlineCore => _call.Deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders;

    protected override CancellationToken CancellationTokenCore => _call.Cancelled;

    protected override Metadata ResponseTrailersCore => _responseTrailers;

    protected override Status StatusCore { get; set; } = Status.DefaultSuccess;

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("context propagation to outgoing calls is not supported on this server");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _writeHeaders(responseHeaders);

    // Grpc.Core.Metadata's own rule (it throws on anything else): found by the http2 fuzz target, whose header with an
    // uppercase name threw out of the connection's loop.
    private static bool IsMetadataKey(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.')) return false;
        }

        return true;
    }

    private static bool TryBase64(string value, out byte[] bytes)
    {
        // gRPC senders may leave out the padding.
        string padded = value.Length % 4 == 0 ? value : value + new string('=', 4 - value.Length % 4);
        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
