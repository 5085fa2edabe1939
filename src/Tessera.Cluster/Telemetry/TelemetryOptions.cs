namespace Tessera.Cluster.Telemetry;

/// <summary>
/// Where a process sends its traces and metrics over OTLP: the endpoint given on the command line, else the standard
/// OTEL_EXPORTER_OTLP_ENDPOINT; nothing is exported when neither is set. OTEL_SERVICE_NAME names the process (else
/// the default the command gives); the exporter reads the other OTEL_* variables (protocol, headers) itself.
/// </summary>
public sealed record TelemetryOptions
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";

    /// <summary>The OTLP receiver (gRPC by default, e.g. http://collector:4317); null: telemetry is off.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The service.name resource attribute of everything this process exports.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The service.instance.id resource attribute (e.g. a worker's name); null for the SDK's default.</summary>
    public string? InstanceId { get; init; }

    /// <summary>How often the meters' readings leave; null for OTEL_METRIC_EXPORT_INTERVAL (ms), else the SDK's 60 s.</summary>
    public TimeSpan? MetricExportInterval { get; init; }

    /// <summary>True when the endpoint came from the command line rather than OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public bool EndpointGiven { get; init; }

    public bool Enabled => Endpoint is not null;

    /// <summary>The options from <paramref name="endpoint"/> (a flag's value, or null) and the environment; ArgumentException for an endpoint that is not an http(s) URL.</summary>
    public static TelemetryOptions Resolve(string? endpoint, string defaultServiceName, string? instanceId = null)
    {
        string? text = endpoint ?? Environment.GetEnvironmentVariable(EndpointVariable);
        Uri? uri = null;
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"the OTLP endpoint '{text}' is not an http:// or https:// URL (e.g. http://127.0.0.1:4317)");
            }
        }

        string? service = Environment.GetEnvironmentVariable(ServiceNameVariable);
        return new TelemetryOptions
        {
            Endpoint = uri,
            EndpointGiven = endpoint is not null,
            ServiceName = string.IsNullOrWhiteSpace(service) ? defaultServiceName : service,
            InstanceId = instanceId,
        };
    }
}
