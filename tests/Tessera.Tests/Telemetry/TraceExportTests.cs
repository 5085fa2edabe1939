using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Tessera.Serving.Grpc.Wire;
using Xunit.Abstractions;
using Tessera.Tests.Cluster;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Telemetry;

/// <summary>
/// `tessera serve --otlp-endpoint` on a pipeline over two local worker processes, against an OTLP receiver decoding
/// with the published protos: one request (REST, then gRPC) carrying a caller's traceparent comes back as one trace,
/// with the server's spans and each worker's stage span linked parent to child across the three processes.
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
        using var serve = new ServeProcess("--model", path, "--workers", "2", "--strategy", "pipeline", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--otlp-endpoint", receiver.Endpoint);
        await serve.WaitUntilListeningAsync();

        // A first request loads the stages on the workers; the traced one shows the steady path.
        using (var warmUp = await serve.Client.PostAsync("/v2/models/m/infer", new StringContent(Wire.Request(Wire.Fp32Input("x", ClusterFixture.Random([1, 16], 83))))))
        {
            Assert.True(warmUp.IsSuccessStatusCode, await warmUp.Content.ReadAsStringAsync());
        }

        // REST, from a client that adds no trace header of its own: the request carries exactly the caller's.
        var caller = NewCaller();
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = serve.Client.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/m/infer")
        {
            Content = new StringContent(Wire.Request(Wire.Fp32Input("x", ClusterFixture.Random([1, 16], 82)))),
        };
        request.Headers.Add("traceparent", TraceParent(caller));
        using (var response = await client.SendAsync(request))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        // The trace as docs/serving.md shows it (dotnet test ... --logger "console;verbosity=detailed").
        var trace = await AssertOneTraceAsync(receiver, caller);
        output.WriteLine($"trace {caller.TraceId.ToHexString()}, caller's span {caller.SpanId.ToHexString()}");
        WriteTree(trace, caller.SpanId.ToHexString(), 0);

        // gRPC ModelInfer, the traceparent in its metadata.
        var grpcCaller = NewCaller();
        using var channel = GrpcChannel.ForAddress(serve.GrpcAddress(), new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = null } });
        var infer = new ModelInferRequest { ModelName = "m" };
        var x = ClusterFixture.Random([1, 16], 84);
        infer.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { 1, 16 }, Contents = new InferTensorContents { Fp32Contents = { x.ToArray<float>() } } });
        await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelInferAsync(infer, new Metadata { { "traceparent", TraceParent(grpcCaller) } });
        await AssertOneTraceAsync(receiver, grpcCaller);
    }

    /// <summary>
    /// The trace of one request: the server's request span continues the caller's trace; under it the request on the
    /// model, its wait in the queue and the batch it ran in, the batch's piece and the piece's route along the workers;
    /// each stage ran in its own worker process, whose span is a child of the route span that sent the request.
    /// </summary>
    private static async Task<IReadOnlyList<ReceivedSpan>> AssertOneTraceAsync(OtlpReceiver receiver, ActivityContext caller)
    {
        var trace = await receiver.WaitForTraceAsync(caller.TraceId.ToHexString(), t => t.Count(s => s.Name == "stage") == 2 && t.Any(s => s.Name == "infer"), TimeSpan.FromSeconds(60));
        var request = Assert.Single(trace, s => s.Scope == "Microsoft.AspNetCore");
        Assert.Equal(caller.SpanId.ToHexString(), request.ParentSpanId);
        var infer = ChildOf(trace, request, "infer");
        Assert.Equal("m", infer.Attribute("tessera.model"));
        ChildOf(trace, infer, "queue");
        var batch = ChildOf(trace, infer, "batch");
        Assert.Equal("1", batch.Attribute("tessera.rows"));
        var piece = ChildOf(trace, batch, "piece");
        var route = ChildOf(trace, piece, "route");
        Assert.All([request, infer, batch, piece, route], s => Assert.Equal("tessera-serve", s.Service));

        var stages = trace.Where(s => s.Name == "stage").OrderBy(s => s.Attribute("tessera.stage")).ToArray();
        Assert.All(stages, s =>
        {
            Assert.Equal(route.SpanId, s.ParentSpanId);
            Assert.Equal("tessera-worker", s.Service);
            Assert.Equal(s.Instance, s.Attribute("tessera.worker"));
            Assert.StartsWith("local-", s.Instance);
        });
        Assert.Equal(["0", "1"], stages.Select(s => s.Attribute("tessera.stage")));
        Assert.Equal(2, stages.Select(s => s.Instance).Distinct().Count());
        return trace;
    }

    private static ActivityContext NewCaller() => new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

    private static string TraceParent(ActivityContext caller) => $"00-{caller.TraceId.ToHexString()}-{caller.SpanId.ToHexString()}-01";

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
