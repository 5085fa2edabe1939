using System.Diagnostics;

namespace Tessera.Serving.Telemetry;

/// <summary>
/// The spans of the serving part: one request on a model ("infer", a child of the HTTP or gRPC request's span),
/// its wait in the model's queue ("queue") and the dynamic batch it ran in ("batch", the child of its first request,
/// linked to the others). Without a listener (no --otlp-endpoint) nothing is started and nothing allocated.
/// </summary>
internal static class ServingTelemetry
{
    public const string SourceName = "Tessera.Serving";

    public static ActivitySource Source { get; } = new(SourceName);
}
