using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// Starts the call of each stream on the gRPC port's own server, on the connection's loop: checks what
/// Grpc.AspNetCore checks (POST, a gRPC content type, a grpc-encoding it can read, the API key), reads grpc-timeout
/// and the caller's traceparent, then hands ModelInfer to its own path (<see cref="ModelInferCall"/>) and every other
/// method to its bound handler (<see cref="GrpcMethodTable"/>).
/// </summary>
internal sealed class GrpcDispatcher : IHttp2CallFactory
{
    // The request span keeps ASP.NET Core's source name, so a trace looks the same whichever server took the call.
    private static readonly ActivitySource s_requests = new("Microsoft.AspNetCore");

    private readonly GrpcMethodTable _methods;
    private readonly InferenceGrpcService _inference;
    private readonly FrontDoorAccess _access;
    private readonly RequestBufferPool _pool;
    private readonly long _maxMessageBytes;
    private readonly ILogger _logger;

    public GrpcDispatcher(GrpcMethodTable methods, InferenceGrpcService inference, FrontDoorAccess access, RequestBufferPool pool, long maxMessageBytes, ILogger logger)
    {
        _methods = methods;
        _inference = inference;
        _access = access;
        _pool = pool;
        _maxMessageBytes = maxMessageBytes;
        _logger = logger;
    }

    public IHttp2Call Start(Http2Stream stream, Http2FrameWriter writer, bool requestEnded)
    {
        string path = stream.Field(":path") ?? "";
        string? encoding = stream.Field("grpc-encoding");
        var activity = s_requests.HasListeners() ? StartActivity(stream, path) : null;
        var previous = Activity.Current;
        try
        {
            var setup = new GrpcCallSetup(path, _pool, _maxMessageBytes, encoding == "gzip", GrpcTimeout.Deadline(stream.Field("grpc-timeout"), DateTime.UtcNow), activity, _logger);
            var call = Refusal(stream, path, encoding) is { } refusal ? new GrpcRefusedCall(stream, writer, setup, refusal.Code, refusal.Message)
                : path == ModelInferEndpoint.Path ? new ModelInferCall(stream, writer, setup, _inference)
                : _methods.Find(path)!.Start(stream, writer, setup);
            if (requestEnded) ((IHttp2Call)call).OnRequestEnd();
            return call;
        }
        finally
        {
            Activity.Current = previous; // the call's span flows into its own work, not into the connection's loop
        }
    }

    private (StatusCode Code, string Message)? Refusal(Http2Stream stream, string path, string? encoding)
    {
        if (stream.Field(":method") != "POST")
        {
            return (StatusCode.Internal, $"the gRPC port takes POST requests, not {stream.Field(":method")}");
        }

        string? type = stream.Field("content-type");
        if (type is null || !(type == "application/grpc" || type.StartsWith("application/grpc+", StringComparison.Ordinal) || type.StartsWith("application/grpc;", StringComparison.Ordinal)))
        {
            return (StatusCode.Internal, $"Content-Type '{type}' is not supported.");
        }

        if (encoding is not (null or "identity" or "gzip"))
        {
            return (StatusCode.Unimplemented, $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: identity, gzip");
        }

        if (_access.Refusal(path, stream.Field("authorization")) is { } refusal)
        {
            return (StatusCode.Unauthenticated, refusal);
        }

        if (path != ModelInferEndpoint.Path && _methods.Find(path) is null)
        {
            int slash = path.LastIndexOf('/');
            bool known = slash > 0 && _methods.Services.Contains(path[1..slash]);
            return (StatusCode.Unimplemented, known ? "Method is unimplemented." : "Service is unimplemented.");
        }

        return null;
    }

    private static Activity? StartActivity(Http2Stream stream, string path)
    {
        ActivityContext.TryParse(stream.Field("traceparent"), stream.Field("tracestate"), out var parent);
        var activity = s_requests.StartActivity(path, ActivityKind.Server, parent);
        activity?.SetTag("grpc.method", path);
        activity?.SetTag("http.request.method", "POST");
        return activity;
    }
}
