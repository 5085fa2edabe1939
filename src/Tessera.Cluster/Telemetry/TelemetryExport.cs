using System.Runtime.CompilerServices;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Tessera.Cluster.Telemetry;

/// <summary>
/// A process's OTLP export of the spans of the given activity sources and the measurements of the given meters, built
/// once at start and flushed on dispose (spans still buffered are sent then). Spans leave in batches (every
/// OTEL_BSP_SCHEDULE_DELAY ms, 5 s by default), metrics every <see cref="TelemetryOptions.MetricExportInterval"/>, else
/// OTEL_METRIC_EXPORT_INTERVAL ms (60 s by default), cumulative: each export holds the totals since the start.
/// </summary>
public sealed class TelemetryExport : IDisposable
{
    private readonly TracerProvider _tracing;
    private readonly MeterProvider? _metrics;

    private TelemetryExport(TracerProvider tracing, MeterProvider? metrics)
    {
        _tracing = tracing;
        _metrics = metrics;
    }

    /// <summary>Starts exporting when <paramref name="options"/> name an endpoint; null (nothing listens) otherwise.</summary>
    /// <param name="instrument">Adds instrumentation that is not an activity source of ours (e.g. ASP.NET Core's request spans).</param>
    public static TelemetryExport? Start(TelemetryOptions options, IReadOnlyList<string> sources, IReadOnlyList<string> meters, Action<TracerProviderBuilder>? instrument = null) =>
        options.Enabled ? Build(options, sources, meters, instrument) : null;

    public void Dispose()
    {
        _tracing.Dispose();
        _metrics?.Dispose();
    }

    // Apart from Start so that a process without telemetry never compiles it, and never loads the SDK's assemblies.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TelemetryExport Build(TelemetryOptions options, IReadOnlyList<string> sources, IReadOnlyList<string> meters, Action<TracerProviderBuilder>? instrument)
    {
        var tracingBuilder = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(Resource(options)).AddSource([.. sources]);
        instrument?.Invoke(tracingBuilder);
        var tracing = tracingBuilder.AddOtlpExporter(o => Configure(o, options)).Build();
        var metrics = meters.Count == 0 ? null
            : Sdk.CreateMeterProviderBuilder().SetResourceBuilder(Resource(options)).AddMeter([.. meters]).AddOtlpExporter((o, reader) =>
            {
                Configure(o, options);
                if (options.MetricExportInterval is { } interval)
                {
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Clamp(interval.TotalMilliseconds, 1, int.MaxValue);
                }
            }).Build();
        return new TelemetryExport(tracing, metrics);
    }

    private static ResourceBuilder Resource(TelemetryOptions options) =>
        ResourceBuilder.CreateDefault().AddService(options.ServiceName, autoGenerateServiceInstanceId: options.InstanceId is null, serviceInstanceId: options.InstanceId);

    private static void Configure(OtlpExporterOptions exporter, TelemetryOptions options)
    {
        if (options.EndpointGiven)
        {
            // From the environment the exporter takes the endpoint itself (adding /v1/traces for http/protobuf).
            exporter.Endpoint = options.Endpoint!;
        }
    }
}
