using System.Diagnostics;
using Xunit.Abstractions;
using Tessera.Tests.Cluster;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Telemetry;

/// <summary>
/// `tessera serve --otlp-endpoint` on a pipeline over two local worker processes, against an OTLP receiver decoding
/// with the published protos: one request carrying a caller's traceparent comes back as one trace, with the server's
/// spans and each worker's stage span linked parent to child across the three processes.
/// </summary>
public sealed class TraceExportTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OneRequestIsOneTraceAcrossTheServerAndEveryWorkerOfThePipeline()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var fx = new ClusterFixture();
        var model = ClusterServingTests.Model(81);
        string path = fx.Save(model, "m.onnx");
        using var serve = new ServeProcess("--model", path, "--workers", "2", "--strategy", "pipeline", "--http", "127.0.0.1:0", "--otlp-endpoint", receiver.Endpoint);
        await serve.WaitUntilListeningAsync();

        // A first request loads the stages on the workers; the traced one shows the steady path.
        using (var warmUp = await serve.Client.PostAsync("/v2/models/m/infer", new StringContent(Wire.Request(Wire.Fp32Input("x", ClusterFixture.Random([1, 16], 83))))))
        {
            Assert.True(warmUp.IsSuccessStatusCode, await warmUp.Content.ReadAsStringAsync());
        }

        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        string traceId = caller.TraceId.ToHexString();
        // A client that adds no trace header of its own: the request carries exactly the caller's.
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = serve.Client.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/m/infer")
        {
            Content = new StringContent(Wire.Request(Wire.Fp32Input("x", ClusterFixture.Random([1, 16], 82)))),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{caller.SpanId.ToHexString()}-01");
        using (var response = await client.SendAsync(request))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var trace = await receiver.WaitForTraceAsync(traceId, t => t.Count(s => s.Name == "stage") == 2 && t.Any(s => s.Name == "infer"), TimeSpan.FromSeconds(60));
        // The trace as docs/serving.md shows it (dotnet test ... --logger "console;verbosity=detailed").
        output.WriteLine($"trace {traceId}, caller's span {caller.SpanId.ToHexString()}");
        WriteTree(trace, caller.SpanId.ToHexString(), 0);

        // The server's request span continues the caller's trace; under it the request on the model, its wait in the
        // queue and the batch it ran in, the batch's piece and the piece's route along the workers.
        var http = Assert.Single(trace, s => s.Scope == "Microsoft.AspNetCore");
        Assert.Equal(caller.SpanId.ToHexString(), http.ParentSpanId);
        Assert.Equal("tessera-serve", http.Service);
        var infer = ChildOf(trace, http, "infer");
        Assert.Equal("m", infer.Attribute("tessera.model"));
        ChildOf(trace, infer, "queue");
        var batch = ChildOf(trace, infer, "batch");
        Assert.Equal("1", batch.Attribute("tessera.rows"));
        var piece = ChildOf(trace, batch, "piece");
        var route = ChildOf(trace, piece, "route");
        Assert.All([http, infer, batch, piece, route], s => Assert.Equal("tessera-serve", s.Service));

        // Each stage ran in its own worker process, whose span is a child of the route span that sent the request.
        var stages = trace.Where(s => s.Name == "stage").OrderBy(s => s.Attribute("tessera.stage")).ToArray();
        Assert.All(stages, s =>
        {
            Assert.Equal(route.SpanId, s.ParentSpanId);
            Assert.Equal("tessera-worker", s.Service);
            Assert.Equal(s.Instance, s.Attribute("tessera.worker"));
        });
        Assert.Equal(["0", "1"], stages.Select(s => s.Attribute("tessera.stage")));
        Assert.Equal(2, stages.Select(s => s.Instance).Distinct().Count());
        Assert.All(stages, s => Assert.StartsWith("local-", s.Instance));
    }

    private void WriteTree(IReadOnlyList<ReceivedSpan> trace, string parent, int depth)
    {
        foreach (var span in trace.Where(s => s.ParentSpanId == parent).OrderBy(s => s.StartUnixNano))
        {
            string[] keys = ["tessera.model", "tessera.rows", "tessera.route", "tessera.worker", "tessera.stage", "http.route"];
            string tags = string.Join(" ", keys.Where(k => span.Attribute(k) is not null).Select(k => $"{k}={span.Attribute(k)}"));
            output.WriteLine($"{new string(' ', 2 * depth)}{span.Name,-30} {span.Service + (span.Instance is null || span.Service == "tessera-serve" ? "" : "/" + span.Instance),-22} {span.Milliseconds,8:0.000} ms  {tags}");
            WriteTree(trace, span.SpanId, depth + 1);
        }
    }

    private static ReceivedSpan ChildOf(IReadOnlyList<ReceivedSpan> trace, ReceivedSpan parent, string name) =>
        Assert.Single(trace, s => s.Name == name && s.ParentSpanId == parent.SpanId);
}
