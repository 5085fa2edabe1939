using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tessera.Tests.Telemetry;

/// <summary>
/// A minimal OTLP/gRPC trace and metrics receiver on loopback (h2c, what an OpenTelemetry collector's 4317 port
/// speaks): the independent end that Tessera's exporters must satisfy. Keeps every span it was sent, and the latest
/// data point of every metric series.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly List<ReceivedSpan> _spans = [];
    private readonly Dictionary<string, ReceivedMetricPoint> _metrics = [];
    private WebApplication? _app;

    /// <summary>The URL to give --otlp-endpoint.</summary>
    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(receiver);
        var app = builder.Build();
        app.MapGrpcService<OtlpTraceService>();
        app.MapGrpcService<OtlpMetricsService>();
        await app.StartAsync();
        receiver._app = app;
        receiver.Endpoint = app.Urls.Single();
        return receiver;
    }

    public void Add(ReceivedSpan span)
    {
        lock (_spans) _spans.Add(span);
    }

    public void Add(ReceivedMetricPoint point)
    {
        lock (_metrics) _metrics[point.Series] = point;
    }

    /// <summary>The latest point of every series once <paramref name="complete"/> holds for them; fails with what came after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedMetricPoint>> WaitForMetricsAsync(Func<IReadOnlyList<ReceivedMetricPoint>, bool> complete, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ReceivedMetricPoint[] points;
            lock (_metrics) points = [.. _metrics.Values];
            if (complete(points)) return points;
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"the metrics did not arrive within {timeout.TotalSeconds} s; received:\n{string.Join("\n", points.Select(p => $"{p.Series} {p.Kind} {p.Value} count={p.Count}"))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The spans of trace <paramref name="traceId"/> once <paramref name="complete"/> holds for them; fails with what came after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForTraceAsync(string traceId, Func<IReadOnlyList<ReceivedSpan>, bool> complete, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ReceivedSpan[] trace;
            lock (_spans) trace = [.. _spans.Where(s => s.TraceId == traceId)];
            if (complete(trace)) return trace;
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"the trace did not arrive whole within {timeout.TotalSeconds} s; received:\n{string.Join("\n", trace.Select(s => s.ToString()))}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
