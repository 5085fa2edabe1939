using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Common.V1;
using Opentelemetry.Proto.Collector.Trace.V1;

namespace Tessera.Tests.Telemetry;

/// <summary>The OTLP/gRPC TraceService of <see cref="OtlpReceiver"/>: decodes each export with the published protos and keeps its spans.</summary>
internal sealed class OtlpTraceService(OtlpReceiver receiver) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
    {
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = Text(resourceSpans.Resource?.Attributes ?? []);
            string service = resource.TryGetValue("service.name", out var s) ? s : "";
            string? instance = resource.TryGetValue("service.instance.id", out var i) ? i : null;
            foreach (var scope in resourceSpans.ScopeSpans)
            {
                foreach (var span in scope.Spans)
                {
                    receiver.Add(new ReceivedSpan(service, instance, scope.Scope?.Name ?? "", span.Name, Hex(span.TraceId), Hex(span.SpanId), Hex(span.ParentSpanId),
                        (int)span.Kind, span.StartTimeUnixNano, span.EndTimeUnixNano, Text(span.Attributes), [.. span.Links.Select(l => Hex(l.SpanId))]));
                }
            }
        }

        return Task.FromResult(new ExportTraceServiceResponse());
    }

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);

    /// <summary>Attributes as text, keyed by name.</summary>
    public static Dictionary<string, string> Text(IEnumerable<KeyValue> attributes) =>
        attributes.ToDictionary(a => a.Key, a => a.Value?.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => a.Value.StringValue,
            AnyValue.ValueOneofCase.IntValue => a.Value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BoolValue => a.Value.BoolValue ? "true" : "false",
            AnyValue.ValueOneofCase.DoubleValue => a.Value.DoubleValue.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            _ => a.Value?.ToString() ?? "",
        }, StringComparer.Ordinal);
}
