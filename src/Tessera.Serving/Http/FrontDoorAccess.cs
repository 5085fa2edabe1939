using Microsoft.AspNetCore.Http;

namespace Tessera.Serving.Http;

/// <summary>
/// Who may call the server: with API keys, every request needs <c>Authorization: Bearer KEY</c> (a gRPC call the
/// same metadata) with one of the keys, except the health checks when they are open (REST /v2/health/live and
/// /ready, gRPC ServerLive, ServerReady and grpc.health.v1.Health). One policy for the REST middleware
/// (<see cref="GuardAsync"/>), the gRPC interceptor (<see cref="Grpc.ApiKeyInterceptor"/>) and the unary ModelInfer
/// path (<see cref="Grpc.ModelInferEndpoint"/>).
/// </summary>
internal sealed class FrontDoorAccess
{
    private const string Bearer = "Bearer ";

    private static readonly HashSet<string> s_healthPaths = new(StringComparer.Ordinal)
    {
        "/v2/health/live", "/v2/health/ready",
        "/inference.GRPCInferenceService/ServerLive", "/inference.GRPCInferenceService/ServerReady",
        "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
    };

    private readonly ApiKeys? _keys;
    private readonly bool _openHealth;

    /// <param name="keys">The accepted keys, or null to let everyone in.</param>
    public FrontDoorAccess(ApiKeys? keys, bool openHealth)
    {
        _keys = keys;
        _openHealth = openHealth;
    }

    /// <summary>Why a request to <paramref name="path"/> with this Authorization value is refused, or null when it may pass.</summary>
    public string? Refusal(string path, string? authorization)
    {
        if (_keys is null || (_openHealth && s_healthPaths.Contains(path)))
        {
            return null;
        }

        if (authorization is null || !authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return "this server needs an API key: send the header Authorization: Bearer KEY";
        }

        return _keys.Accepts(authorization.AsSpan(Bearer.Length).Trim()) ? null : "the API key is not valid";
    }

    /// <summary>The REST side: 401 with the protocol's error object before anything else runs. gRPC calls pass on, to be refused with UNAUTHENTICATED.</summary>
    public async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        bool grpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
        if (!grpc && Refusal(context.Request.Path.Value ?? "", context.Request.Headers.Authorization) is { } refusal)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ErrorResponse.WriteAsync(context, StatusCodes.Status401Unauthorized, refusal).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}
