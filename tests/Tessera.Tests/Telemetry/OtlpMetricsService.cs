using Grpc.Core;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Metrics.V1;

namespace Tessera.Tests.Telemetry;

/// <summary>The OTLP/gRPC MetricsService of <see cref="OtlpReceiver"/>: decodes each export with the published protos and keeps its data points.</summary>
internal sealed class OtlpMetricsService(OtlpReceiver receiver) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context)
    {
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var resource = OtlpTraceService.Text(resourceMetrics.Resource?.Attributes ?? []);
            string service = resource.TryGetValue("service.name", out var s) ? s : "";
            foreach (var scope in resourceMetrics.ScopeMetrics)
            {
                foreach (var metric in scope.Metrics)
                {
                    foreach (var point in Points(service, scope.Scope?.Name ?? "", metric))
                    {
                        receiver.Add(point);
                    }
                }
            }
        }

        return Task.FromResult(new ExportMetricsServiceResponse());
    }

    private static IEnumerable<ReceivedMetricPoint> Points(string service, string scope, Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Select(p => Number(service, scope, metric.Name, "sum", metric.Sum.AggregationTemporality, p)),
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Select(p => Number(service, scope, metric.Name, "gauge", AggregationTemporality.Unspecified, p)),
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Select(p => new ReceivedMetricPoint(
            service, scope, metric.Name, "histogram", metric.Histogram.AggregationTemporality == AggregationTemporality.Cumulative,
            OtlpTraceService.Text(p.Attributes), 0, p.Count, p.Sum, [.. p.ExplicitBounds], [.. p.BucketCounts])),
        _ => [new ReceivedMetricPoint(service, scope, metric.Name, metric.DataCase.ToString(), false, new Dictionary<string, string>(), 0, 0, 0, [], [])],
    };

    private static ReceivedMetricPoint Number(string service, string scope, string name, string kind, AggregationTemporality temporality, NumberDataPoint p) =>
        new(service, scope, name, kind, temporality == AggregationTemporality.Cumulative, OtlpTraceService.Text(p.Attributes),
            p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble, 0, 0, [], []);
}
