using System.Diagnostics;

namespace Tessera.Cluster.Telemetry;

/// <summary>
/// The spans of the cluster part: a deployment's pieces of a batch ("piece"), a request sent along a route of workers
/// ("route"), and each stage (or rank) a worker runs ("stage"). Without a listener (no --otlp-endpoint)
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and nothing is allocated.
/// </summary>
public static class ClusterTelemetry
{
    public const string SourceName = "Tessera.Cluster";

    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>Marks <paramref name="span"/> failed with the exception's message; false, for use as an exception filter that lets the exception pass.</summary>
    public static bool Failed(Activity? span, Exception e)
    {
        span?.SetStatus(ActivityStatusCode.Error, e.Message);
        return false;
    }
}
