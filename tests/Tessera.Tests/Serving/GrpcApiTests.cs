using System.Net;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Metrics;
using Tessera.Serving.Scheduling;
using Tessera.Tensors;
using ServingConfig = Tessera.Serving.Repository.ModelConfig;

namespace Tessera.Tests.Serving;

/// <summary>
/// The gRPC API through Grpc.Net.Client against a real Kestrel server: the same answers as the REST path for the
/// same requests, raw and typed contents, errors as gRPC statuses, streams, config, statistics, health, reflection.
/// </summary>
public sealed class GrpcApiTests
{
    [Fact]
    public async Task ServerAndModelMetadataMatchTheRestAnswers()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        var grpc = server.Grpc;
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        Assert.True((await grpc.ModelReadyAsync(new ModelReadyRequest { Name = "affine" })).Ready);
        Assert.False((await grpc.ModelReadyAsync(new ModelReadyRequest { Name = "affine", Version = "2" })).Ready);

        var (_, rest) = await server.GetJsonAsync("/v2");
        var metadata = await grpc.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal(rest.GetProperty("name").GetString(), metadata.Name);
        Assert.Equal(rest.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()), metadata.Extensions);

        var (_, restModel) = await server.GetJsonAsync("/v2/models/affine");
        var model = await grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "affine" });
        Assert.Equal("affine", model.Name);
        Assert.Equal(["1"], model.Versions);
        Assert.Equal(restModel.GetProperty("platform").GetString(), model.Platform);
        var restInput = restModel.GetProperty("inputs")[0];
        Assert.Equal(restInput.GetProperty("name").GetString(), model.Inputs[0].Name);
        Assert.Equal(restInput.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), model.Inputs[0].Shape);
        Assert.Equal([-1L, 3], model.Outputs[0].Shape);
    }

    [Fact]
    public async Task RawAndTypedInferenceGiveTheRestPathsExactValues()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        float[] x = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1.3f).ToArray();
        var (status, body) = await server.PostJsonAsync("/v2/models/affine/infer", Wire.Request(Wire.Fp32Input("x", Tensor.FromArray(x, 3, 4))));
        Assert.Equal(200, status);
        float[] expected = Wire.Fp32Output(body, "y").ToArray<float>();

        var raw = Request("affine", "x", "FP32", [3, 4]);
        raw.Id = "raw-1";
        raw.RawInputContents.Add(ByteString.CopyFrom(Wire.Bytes(x)));
        var rawAnswer = await server.Grpc.ModelInferAsync(raw);
        Assert.Equal("raw-1", rawAnswer.Id);
        Assert.Equal(("affine", "1"), (rawAnswer.ModelName, rawAnswer.ModelVersion));
        Assert.Equal("FP32", rawAnswer.Outputs[0].Datatype);
        Assert.Equal([3L, 3], rawAnswer.Outputs[0].Shape);
        Assert.Null(rawAnswer.Outputs[0].Contents);
        Assert.Equal(Wire.Bytes(expected), rawAnswer.RawOutputContents[0].ToByteArray());

        var typed = Request("affine", "x", "FP32", [3, 4]);
        typed.Inputs[0].Contents = new InferTensorContents();
        typed.Inputs[0].Contents.Fp32Contents.Add(x);
        var typedAnswer = await server.Grpc.ModelInferAsync(typed);
        Assert.Empty(typedAnswer.RawOutputContents);
        Assert.Equal(expected, typedAnswer.Outputs[0].Contents.Fp32Contents);
    }

    [Fact]
    public async Task EveryDatatypeRoundTripsAsRawContentsAndAsTypedContents()
    {
        await using var server = await TestServer.StartAsync("echo", TestModels.Echo(), grpc: true);
        var raw = new ModelInferRequest { ModelName = "echo" };
        foreach (var (wire, bytes) in DataTypeTests.Cases)
        {
            raw.Inputs.Add(Input("in_" + wire, wire, [3]));
            raw.RawInputContents.Add(ByteString.CopyFrom(bytes));
        }

        var answer = await server.Grpc.ModelInferAsync(raw);
        foreach (var (wire, bytes) in DataTypeTests.Cases)
        {
            int k = answer.Outputs.ToList().FindIndex(o => o.Name == "out_" + wire);
            Assert.Equal(wire, answer.Outputs[k].Datatype);
            Assert.Equal(bytes, answer.RawOutputContents[k].ToByteArray());
        }

    }

    [Fact]
    public async Task EveryDatatypeWithATypedFieldRoundTripsAsTypedContents()
    {
        await using var server = await TestServer.StartAsync("echo", TestModels.Echo(TestModels.AllTypes.Where(t => t.Wire != "FP16")), grpc: true);
        var typed = new ModelInferRequest { ModelName = "echo" };
        typed.Inputs.Add(Typed("in_BOOL", "BOOL", c => c.BoolContents.Add([true, false, true])));
        typed.Inputs.Add(Typed("in_UINT8", "UINT8", c => c.UintContents.Add([0, 255, 7])));
        typed.Inputs.Add(Typed("in_UINT16", "UINT16", c => c.UintContents.Add([0, 65535, 300])));
        typed.Inputs.Add(Typed("in_UINT32", "UINT32", c => c.UintContents.Add([0, uint.MaxValue, 70000])));
        typed.Inputs.Add(Typed("in_UINT64", "UINT64", c => c.Uint64Contents.Add([0, ulong.MaxValue, 5])));
        typed.Inputs.Add(Typed("in_INT8", "INT8", c => c.IntContents.Add([-128, 127, 0])));
        typed.Inputs.Add(Typed("in_INT16", "INT16", c => c.IntContents.Add([-32768, 32767, -1])));
        typed.Inputs.Add(Typed("in_INT32", "INT32", c => c.IntContents.Add([int.MinValue, int.MaxValue, -5])));
        typed.Inputs.Add(Typed("in_INT64", "INT64", c => c.Int64Contents.Add([long.MinValue, long.MaxValue, -5])));
        typed.Inputs.Add(Typed("in_FP32", "FP32", c => c.Fp32Contents.Add([0.1f, float.MinValue, float.NaN])));
        typed.Inputs.Add(Typed("in_FP64", "FP64", c => c.Fp64Contents.Add([0.1, 1e-300, double.NegativeInfinity])));
        typed.Inputs.Add(Typed("in_BYTES", "BYTES", c => c.BytesContents.Add([ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("h\u00e9llo"), ByteString.Empty])));
        typed.Outputs.Add(typed.Inputs.Select(i => new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out_" + i.Name[3..] }));
        var back = await server.Grpc.ModelInferAsync(typed);
        Assert.Equal(typed.Inputs.Count, back.Outputs.Count);
        for (int i = 0; i < typed.Inputs.Count; i++)
        {
            Assert.Equal(typed.Outputs[i].Name, back.Outputs[i].Name);
            Assert.Equal(typed.Inputs[i].Contents, back.Outputs[i].Contents);
        }

        var outOfRange = new ModelInferRequest { ModelName = "echo", Inputs = { Typed("in_INT8", "INT8", c => c.IntContents.Add([1, 200, 3])) } };
        Assert.Contains("value 200 at element 1", (await Fails(server.Grpc.ModelInferAsync(outOfRange).ResponseAsync)).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailuresAnswerWithTheMatchingGrpcStatus()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        var grpc = server.Grpc;
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.ModelInferAsync(new ModelInferRequest { ModelName = "nope" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "affine", Version = "7" }).ResponseAsync)).StatusCode);

        var wrongShape = Request("affine", "x", "FP32", [2, 5]);
        wrongShape.RawInputContents.Add(ByteString.CopyFrom(new byte[40]));
        var e = await Fails(grpc.ModelInferAsync(wrongShape).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("expects [-1,4]", e.Status.Detail, StringComparison.Ordinal);

        var shortRaw = Request("affine", "x", "FP32", [1, 4]);
        shortRaw.RawInputContents.Add(ByteString.CopyFrom(new byte[15]));
        Assert.Contains("15 bytes", (await Fails(grpc.ModelInferAsync(shortRaw).ResponseAsync)).Status.Detail, StringComparison.Ordinal);

        var twoRaw = Request("affine", "x", "FP32", [1, 4]);
        twoRaw.RawInputContents.Add([ByteString.CopyFrom(new byte[16]), ByteString.CopyFrom(new byte[16])]);
        Assert.Equal(StatusCode.InvalidArgument, (await Fails(grpc.ModelInferAsync(twoRaw).ResponseAsync)).StatusCode);

        var fp16Typed = new ModelInferRequest { ModelName = "affine", Inputs = { Typed("x", "FP16", c => c.Fp32Contents.Add(1f)) } };
        Assert.Contains("raw_input_contents", (await Fails(grpc.ModelInferAsync(fp16Typed).ResponseAsync)).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFullQueueIsUnavailableAndADeadlineInTheQueueIsDeadlineExceeded()
    {
        var gated = new GatedBackend(1);
        var config = new ServingConfig { Scheduler = new SchedulerOptions { MaxQueueSize = 1 } };
        await using var server = await TestServer.StartAsync(r => r.Add("gated", 1, gated, config), grpc: true);
        var grpc = server.Grpc;
        var running = grpc.ModelInferAsync(AffineRequest("gated", 1)).ResponseAsync; // taken by the one replica, held by the gate
        while (gated.Started.IsEmpty) await Task.Delay(5);
        var model = server.Server.Models.Find("gated", null);
        int Queued() => model.Scheduler.Snapshot().QueuedPerLevel.Sum();
        // Observed states, not deadlines: the queue is filled by a request without one, so however long a loaded machine
        // takes to send the third, the queue is still full then. (With a 3 s deadline on the one queued, a starved test
        // could send the third after it left: the third would be queued, not refused, behind a gate that never opens.)
        using var leave = new CancellationTokenSource();
        var queued = Fails(grpc.ModelInferAsync(AffineRequest("gated", 2), cancellationToken: leave.Token).ResponseAsync);
        await WaitUntilAsync(() => Queued() == 1);
        Assert.Equal(1, Queued());
        var refused = await Fails(grpc.ModelInferAsync(AffineRequest("gated", 3), deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        leave.Cancel();
        Assert.Equal(StatusCode.Cancelled, (await queued).StatusCode);
        await WaitUntilAsync(() => Queued() == 0); // the client left: its request left the queue unrun
        Assert.Equal(0, Queued());

        // A deadline that passes in the queue, whenever the request gets there (one already late is given 1 us).
        var late = Fails(grpc.ModelInferAsync(AffineRequest("gated", 4), deadline: DateTime.UtcNow.AddSeconds(1)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, (await late).StatusCode);
        // The client's deadline and the server's own timer for it fire independently: open the gate only once the server
        // has ended the late request (its timer, or the client's reset when that came first), not when the client gave
        // up, or a loaded machine could dispatch it first.
        await WaitUntilAsync(() => model.Metrics.Outcome(RequestOutcome.Timeout) + model.Metrics.Outcome(RequestOutcome.Cancelled) == 2);
        Assert.Equal(0, Queued());
        gated.Open();
        Assert.Single((await running).RawOutputContents);
        Assert.Equal([1f], gated.Started.Select(s => s.Id)); // the late request left the queue without running
    }

    [Fact]
    public async Task MessagesFarAboveFourMegabytesPassUpToTheBodyLimitAndAreRefusedBeyondIt()
    {
        var echo = TestModels.Echo([("FP32", Tessera.Tensors.DataType.Float32)]);
        await using var server = await TestServer.StartAsync(r => r.Add("echo", 1, new Tessera.Serving.Backends.LocalBackend(echo, "echo", 1, 1), new ServingConfig()), maxBodyBytes: 40L << 20, grpc: true);
        int n = 6 << 20; // 24 MiB of FP32
        var big = new byte[n * 4];
        new Random(5).NextBytes(big);
        var request = Request("echo", "in_FP32", "FP32", [n]);
        request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(big));
        var answer = await server.Grpc.ModelInferAsync(request);
        Assert.True(answer.RawOutputContents[0].Span.SequenceEqual(big));

        var tooBig = Request("echo", "in_FP32", "FP32", [12 << 20]);
        tooBig.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(new byte[48 << 20]));
        Assert.Equal(StatusCode.ResourceExhausted, (await Fails(server.Grpc.ModelInferAsync(tooBig).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task AStreamAnswersEveryRequestAndKeepsGoingAfterAFailedOne()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        using var call = server.Grpc.ModelStreamInfer();
        var requests = new[] { AffineRequest("affine", 1, "a"), AffineRequest("nope", 2, "b"), AffineRequest("affine", 3, "c") };
        requests[2].Inputs[0].Shape[1] = 5;
        requests[2].RawInputContents[0] = ByteString.CopyFrom(new byte[20]);
        var ok = AffineRequest("affine", 4, "d");
        foreach (var r in requests.Append(ok)) await call.RequestStream.WriteAsync(r);
        await call.RequestStream.CompleteAsync();
        var answers = new Dictionary<string, ModelStreamInferResponse>();
        await foreach (var a in call.ResponseStream.ReadAllAsync()) answers.Add(a.InferResponse.Id, a);

        Assert.Equal(["a", "b", "c", "d"], answers.Keys.Order());
        Assert.Equal("", answers["a"].ErrorMessage);
        Assert.Single(answers["a"].InferResponse.RawOutputContents);
        Assert.Contains("unknown model 'nope'", answers["b"].ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("shape [1,5]", answers["c"].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(12, answers["d"].InferResponse.RawOutputContents[0].Length);
    }

    [Fact]
    public async Task ConfigAndStatisticsDescribeTheModelAndCountItsRequests()
    {
        var config = new ServingConfig { Replicas = 2, Scheduler = new SchedulerOptions { MaxBatchSize = 8, PreferredBatchSizes = [4], MaxQueueDelayMicroseconds = 500 } };
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), config, grpc: true);
        var grpc = server.Grpc;
        var c = (await grpc.ModelConfigAsync(new ModelConfigRequest { Name = "affine" })).Config;
        Assert.Equal(("affine", 8), (c.Name, c.MaxBatchSize));
        Assert.Equal([4L], c.Input[0].Dims); // without the batch dimension
        Assert.Equal(Tessera.Serving.Grpc.Wire.DataType.TypeFp32, c.Output[0].DataType);
        Assert.Equal(2, c.InstanceGroup[0].Count);
        Assert.Equal([4], c.DynamicBatching.PreferredBatchSize);
        Assert.Equal(500UL, c.DynamicBatching.MaxQueueDelayMicroseconds);

        for (int i = 0; i < 3; i++) await grpc.ModelInferAsync(AffineRequest("affine", i));
        await Fails(grpc.ModelInferAsync(Request("affine", "x", "FP32", [1, 4])).ResponseAsync); // no contents at all
        var stats = (await grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "affine" })).ModelStats.Single();
        Assert.Equal(("affine", "1"), (stats.Name, stats.Version));
        Assert.Equal(3UL, stats.InferenceStats.Success.Count);
        Assert.Equal(1UL, stats.InferenceStats.Fail.Count);
        Assert.Equal(3UL, stats.InferenceCount);
        Assert.True(stats.InferenceStats.ComputeInfer.Ns > 0 && stats.ExecutionCount is >= 1 and <= 3);

        // batch_stats: every batch under its size, so the sizes add up to the rows and the counts to the batches.
        Assert.Equal(stats.ExecutionCount, (ulong)stats.BatchStats.Sum(b => (long)b.ComputeInfer.Count));
        Assert.Equal(stats.InferenceCount, (ulong)stats.BatchStats.Sum(b => (long)(b.BatchSize * b.ComputeInfer.Count)));
        Assert.Equal(stats.InferenceStats.ComputeInfer.Ns, (ulong)stats.BatchStats.Sum(b => (long)b.ComputeInfer.Ns), (a, b) => Math.Abs((long)a - (long)b) <= stats.BatchStats.Count);
        Assert.All(stats.BatchStats, b => Assert.Equal(b.ComputeInfer.Count, b.ComputeInput.Count));
        string metrics = await server.MetricsAsync();
        Assert.Contains("tessera_requests_total{model=\"affine\",version=\"1\",outcome=\"success\"} 3", metrics, StringComparison.Ordinal);
        Assert.Equal(StatusCode.NotFound, (await Fails(grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "nope" }).ResponseAsync)).StatusCode);

        // The REST counterparts answer with the same messages as Triton's JSON (64-bit counts as numbers).
        var (status, restConfig) = await server.GetJsonAsync("/v2/models/affine/config");
        Assert.Equal(200, status);
        Assert.Equal(8, restConfig.GetProperty("max_batch_size").GetInt32());
        Assert.Equal("TYPE_FP32", restConfig.GetProperty("input")[0].GetProperty("data_type").GetString());
        Assert.Equal([4L], restConfig.GetProperty("input")[0].GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(500, restConfig.GetProperty("dynamic_batching").GetProperty("max_queue_delay_microseconds").GetInt64());
        foreach (string path in new[] { "/v2/models/stats", "/v2/models/affine/stats", "/v2/models/affine/versions/1/stats" })
        {
            var (statsStatus, restStats) = await server.GetJsonAsync(path);
            Assert.Equal(200, statsStatus);
            var one = restStats.GetProperty("model_stats").EnumerateArray().Single();
            Assert.Equal(3, one.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64());
            Assert.Equal(1, one.GetProperty("inference_stats").GetProperty("fail").GetProperty("count").GetInt64());
        }

        Assert.Equal(404, (await server.GetJsonAsync("/v2/models/nope/stats")).Status);
        Assert.Equal(404, (await server.GetJsonAsync("/v2/models/affine/versions/3/config")).Status);
    }

    [Fact]
    public async Task HealthCheckingAndReflectionAnswer()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "inference.GRPCInferenceService" })).Status);

        using var reflection = new ServerReflection.ServerReflectionClient(server.Channel).ServerReflectionInfo();
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await reflection.RequestStream.CompleteAsync();
        Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Contains("inference.GRPCInferenceService", reflection.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name));

        // The REST port stays HTTP/1.1: gRPC is on its own port.
        Assert.NotEqual(server.Server.Addresses[0], server.Server.GrpcAddress);
        using var response = await server.Client.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task LoadgenOverGrpcSendsRequestsTheServerAnswersAndCounts()
    {
        await using var server = await TestServer.StartAsync("affine", TestModels.Affine(), grpc: true);
        string target = new Uri(server.Server.GrpcAddress!).Authority;
        var run = await Task.Run(() => Tessera.Tests.Support.CliProcess.Run(
            "loadgen", "--url", server.Server.Addresses[0], "--grpc", target, "--model", "affine", "--shape", "x=2x4",
            "--concurrency", "2", "--duration", "1", "--warmup", "0", "--json"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith("loadgen: affine: 2 workers, gRPC bodies of", run.Stderr, StringComparison.Ordinal);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        long requests = json.GetProperty("requests").GetInt64();
        Assert.True(requests > 0, run.Stdout + run.Stderr);
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
        var stats = (await server.Grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "affine" })).ModelStats.Single();
        Assert.Equal((ulong)requests + 1, stats.InferenceStats.Success.Count); // the measured requests and the probe

        var refused = await Task.Run(() => Tessera.Tests.Support.CliProcess.Run(
            "loadgen", "--url", server.Server.Addresses[0], "--grpc", target, "--model", "affine", "--shape", "x=2x5", "--duration", "0.2"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("InvalidArgument", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadgensWireCallGetsTheServersStatusAndTheWholeAnswer()
    {
        await using var server = await TestServer.StartAsync(r => r.Add("affine", 1, new Tessera.Serving.Backends.LocalBackend(TestModels.Affine(), "affine", 1, 1), new ServingConfig()), maxBodyBytes: 1 << 20, grpc: true);
        string target = new Uri(server.Server.GrpcAddress!).Authority;
        const string path = "/inference.GRPCInferenceService/ModelInfer";
        Tessera.Cli.LoadGen.GrpcWireCall Call(ModelInferRequest request) =>
            new(target, path, Tessera.Cli.LoadGen.GrpcWireCall.Frame(request.ToByteArray()), TimeSpan.FromSeconds(30));

        using (var call = Call(AffineRequest("affine", 1f)))
        {
            Assert.Null(await call.SendAsync(CancellationToken.None));
            Assert.Null(await call.SendAsync(CancellationToken.None)); // the same connection, the next stream
        }

        var stats = (await server.Grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "affine" })).ModelStats.Single();
        Assert.Equal(2UL, stats.InferenceStats.Success.Count);

        using (var missing = Call(AffineRequest("nope", 1f)))
        {
            Assert.Equal("grpc NotFound", await missing.SendAsync(CancellationToken.None)); // a trailers-only answer
        }

        // Refused from its prefix while the client is still sending the message: the call ends there.
        var large = AffineRequest("affine", 1f);
        large.RawInputContents[0] = ByteString.CopyFrom(new byte[2 << 20]);
        using (var tooLarge = Call(large))
        {
            Assert.Equal("grpc ResourceExhausted", await tooLarge.SendAsync(CancellationToken.None));
        }

        using var closed = new Tessera.Cli.LoadGen.GrpcWireCall("127.0.0.1:1", path, [0, 0, 0, 0, 0], TimeSpan.FromSeconds(30));
        Assert.Equal("connection refused", await closed.SendAsync(CancellationToken.None));
    }

    internal static ModelInferRequest Request(string model, string input, string datatype, long[] shape) =>
        new() { ModelName = model, Inputs = { Input(input, datatype, shape) } };

    internal static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, long[] shape) =>
        new() { Name = name, Datatype = datatype, Shape = { shape } };

    private static ModelInferRequest AffineRequest(string model, float id, string requestId = "")
    {
        var request = Request(model, "x", "FP32", [1, 4]);
        request.Id = requestId;
        request.RawInputContents.Add(ByteString.CopyFrom(Wire.Bytes(new[] { id, 0.5f, -0.5f, 1f })));
        return request;
    }

    private static ModelInferRequest.Types.InferInputTensor Typed(string name, string datatype, Action<InferTensorContents> fill)
    {
        var input = Input(name, datatype, [3]);
        input.Contents = new InferTensorContents();
        fill(input.Contents);
        return input;
    }

    private static async Task<RpcException> Fails<T>(Task<T> call) => await Assert.ThrowsAsync<RpcException>(() => call);

    /// <summary>Polls <paramref name="done"/> until it holds, for at most 30 s (a state the server reaches, on a loaded machine late).</summary>
    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done() && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
    }
}
