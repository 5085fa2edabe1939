using System.Diagnostics;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;
using Tessera.Tests.Cluster;
using Tessera.Tests.Partitioning;
using Tessera.Tests.Support;

namespace Tessera.Tests.Serving;

/// <summary>
/// `tessera serve` on real worker processes over loopback, through real HTTP: data and pipeline replicas give the
/// single-session bits, models and ensemble members run on their own workers, a killed worker fails over (and
/// the last one down gives a 503), and the CLI starts, uses and stops its local workers.
/// </summary>
public sealed class ClusterServingTests
{
    /// <summary>The two-layer chain of the cluster tests, with its output's batch axis declared so it can be batched.</summary>
    internal static OnnxModel Model(int seed)
    {
        var model = ClusterFixture.Whole(16, 32, seed);
        model.Graph.Outputs[0].Shape = [Dimension.Named("N"), Dimension.Known(16)];
        return model;
    }

    private static float[] Expected(OnnxModel model, Tensor x) => ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();

    [Fact]
    public async Task DataAndPipelineReplicasOnWorkersGiveTheSessionsBits()
    {
        var model = Model(31);
        const string batching = "\"max_batch_size\": 8, \"dynamic_batching\": {\"max_queue_delay_us\": 3000}";
        await using var s = await ClusterServer.StartAsync(2,
            ("data", model, "{\"strategy\": \"data\", \"workers\": [0, 1], \"scheduling\": \"round_robin\", " + batching + "}"),
            ("pipe", model, "{\"strategy\": \"pipeline\", \"workers\": 2, " + batching + "}"));

        Assert.Equal(2, s.Backend("data").ReplicaCount);
        Assert.All(s.Backend("data").Routes, r => Assert.Single(r.Stages));
        // One load per worker, shared by both models: each data replica's worker load is one of the pipeline's.
        Assert.All(Enumerable.Range(0, 2), r => Assert.Contains(Assert.Single(s.Backend("data").WorkerLoads(r)), s.Backend("pipe").WorkerLoads(0)));
        var pipeline = Assert.Single(s.Backend("pipe").Routes);
        Assert.Equal(2, pipeline.Workers.Count);

        foreach (string name in new[] { "data", "pipe" })
        {
            foreach (int rows in new[] { 1, 5, 8 })
            {
                var x = ClusterFixture.Random([rows, 16], 100 + rows);
                var (status, body) = await s.InferAsync(name, x);
                Assert.True(status == 200, body.ToString());
                Assert.Equal(Expected(model, x), Wire.Fp32Output(body, "y").ToArray<float>());
            }

            // Concurrent requests are batched, and a pipeline's batches travel as micro-batches.
            var inputs = Enumerable.Range(0, 6).Select(i => ClusterFixture.Random([1 + (i % 3), 16], 200 + i)).ToArray();
            var answers = await Task.WhenAll(inputs.Select(x => s.InferAsync(name, x)));
            for (int i = 0; i < inputs.Length; i++)
            {
                Assert.Equal(200, answers[i].Status);
                Assert.Equal(Expected(model, inputs[i]), Wire.Fp32Output(answers[i].Body, "y").ToArray<float>());
            }
        }

        // Round robin over the two whole-model replicas: both workers ran "data"; the pipeline ran on both.
        foreach (var w in s.Workers)
        {
            Assert.True(await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"data\",version=\"1\",", w) > 0);
            Assert.True(await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"pipe\",version=\"1\",", w) > 0);
            Assert.Equal(1, await s.WorkerMetricAsync("tessera_worker_up", "", w));
            Assert.Equal(0, await s.WorkerMetricAsync("tessera_worker_inflight_requests", "", w));
        }
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("resnet18")]
    public async Task ConformanceModelsOnDataAndPipelineReplicasGiveTheSessionsBits(string name)
    {
        var c = ConformanceSet.Get(name);
        await using var s = await ClusterServer.StartAsync(2,
            ("data", c.Model, "{\"strategy\": \"data\", \"workers\": [0, 1]}"), ("pipe", c.Model, "{\"strategy\": \"pipeline\", \"workers\": [0, 1]}"));
        Assert.Equal(2, Assert.Single(s.Backend("pipe").Routes).Stages.Count);
        foreach (string model in new[] { "data", "pipe" })
        {
            ConformanceSet.AssertBitIdentical(c.Expected, await s.InferBinaryAsync(model, c.Inputs), $"{name} served as '{model}'");
        }
    }

    [Fact]
    public async Task TwoModelsAndAnEnsembleOfThemRunOnTheirOwnWorkers()
    {
        var a = Model(41);
        var b = Model(43);
        await using var s = await ClusterServer.StartAsync(2,
            ("a", a, null), ("b", b, null),
            ("avg", null, "{\"ensemble\": {\"members\": [\"a\", \"b\"], \"output\": \"y\", \"aggregation\": \"mean\"}}"));
        var (wa, wb) = (s.Workers[0], s.Workers[1]);
        Assert.Equal([wa.Address], s.Backend("a").Routes.SelectMany(r => r.Workers).Select(w => w.Address));
        Assert.Equal([wb.Address], s.Backend("b").Routes.SelectMany(r => r.Workers).Select(w => w.Address));

        // Both models at once.
        var xs = Enumerable.Range(0, 4).Select(i => ClusterFixture.Random([2, 16], 300 + i)).ToArray();
        var answers = await Task.WhenAll(xs.SelectMany(x => new[] { s.InferAsync("a", x), s.InferAsync("b", x) }));
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.Equal(Expected(a, xs[i]), Wire.Fp32Output(answers[2 * i].Body, "y").ToArray<float>());
            Assert.Equal(Expected(b, xs[i]), Wire.Fp32Output(answers[(2 * i) + 1].Body, "y").ToArray<float>());
        }

        Assert.Equal(4, await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"a\",version=\"1\",", wa));
        Assert.Null(await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"a\",version=\"1\",", wb));
        Assert.Equal(4, await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"b\",version=\"1\",", wb));
        Assert.Null(await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"b\",version=\"1\",", wa));

        // The ensemble's members ran on their two workers, and their outputs were averaged as in-process.
        var x0 = xs[0];
        var (status, body) = await s.InferAsync("avg", x0);
        Assert.True(status == 200, body.ToString());
        Assert.Equal(Expected(a, x0).Zip(Expected(b, x0), (p, q) => (float)((p + (double)q) / 2)).ToArray(), Wire.Fp32Output(body, "y").ToArray<float>());
        Assert.Equal(5, await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"a\",version=\"1\",", wa));
        Assert.Equal(5, await s.WorkerMetricAsync("tessera_worker_requests_total", "model=\"b\",version=\"1\",", wb));
    }

    [Fact]
    public async Task AKilledWorkerFailsOverAndWithNoneLeftTheServerAnswers503AndKeepsServing()
    {
        var model = Model(51);
        await using var s = await ClusterServer.StartAsync(2, ("m", model, "{\"scheduling\": \"round_robin\"}"));
        var x = ClusterFixture.Random([3, 16], 52);
        Assert.Equal(200, (await s.InferAsync("m", x)).Status);

        s.Workers[1].Dispose(); // killed
        for (int i = 0; i < 4; i++)
        {
            var (status, body) = await s.InferAsync("m", x);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(Expected(model, x), Wire.Fp32Output(body, "y").ToArray<float>());
        }

        var clock = Stopwatch.StartNew();
        while (await s.WorkerMetricAsync("tessera_worker_up", "", s.Workers[1]) != 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.Equal(0, await s.WorkerMetricAsync("tessera_worker_up", "", s.Workers[1]));

        s.Workers[0].Dispose();
        clock.Restart();
        var (down, error) = await s.InferAsync("m", x);
        Assert.Equal(503, down);
        Assert.Contains("no placement could run the request", error.GetProperty("error").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Client.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Client.GetAsync("/v2/models/m")).StatusCode);
        Assert.Equal(503, (await s.InferAsync("m", x)).Status);
    }

    [Fact]
    public async Task AClientThatLeavesWhileQueuedBehindABusyWorkerIsNeverRunThere()
    {
        var model = Model(81);
        // Slow failure detection: the worker is frozen on purpose and must not be taken for dead.
        await using var s = await ClusterServer.StartAsync(1, ClusterFixture.FastOptions with { DownAfter = TimeSpan.FromSeconds(30) }, ("m", model, null));
        var x = ClusterFixture.Random([2, 16], 82);
        Assert.Equal(200, (await s.InferAsync("m", x)).Status);
        var worker = s.Workers[0];
        const string answered = "model=\"m\",version=\"1\",";
        Task<(int Status, System.Text.Json.JsonElement Body)> first;
        worker.Signal("STOP");
        try
        {
            first = s.InferAsync("m", x); // dispatched, then held by the frozen worker
            // Generous: a test host busy starting other tests' workers can be slow to run the request's first steps.
            var clock = Stopwatch.StartNew();
            while (await s.WorkerMetricAsync("tessera_worker_inflight_requests", "", worker) != 1 && !first.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
            if (first.IsCompleted)
            {
                var (status, body) = await first;
                Assert.Fail($"the request to the frozen worker ended: {status} {body}");
            }

            Assert.Equal(1, await s.WorkerMetricAsync("tessera_worker_inflight_requests", "", worker));
            // The client leaves once the server holds its request (queued, or handed to the busy replica): a fixed client
            // timeout could end it before a starved server has read it, and a request never read is never cancelled.
            using (var leaves = new CancellationTokenSource())
            using (var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x))))
            {
                var second = s.Client.PostAsync("/v2/models/m/infer", content, leaves.Token);
                var served = s.Server.Models.Find("m", null);
                int Held() => served.Scheduler.Snapshot().QueuedPerLevel.Sum() + s.Backend("m").Waiting(0);
                clock.Restart();
                while (Held() == 0 && !second.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
                Assert.False(second.IsCompleted, "the second request ended while the only worker was frozen");
                Assert.Equal(1, Held());
                await leaves.CancelAsync();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
            }

            string metrics = await s.WaitForMetricsAsync(m => m.Contains("outcome=\"cancelled\"} 1", StringComparison.Ordinal));
            Assert.Contains("tessera_requests_total{model=\"m\",version=\"1\",outcome=\"cancelled\"} 1", metrics);
        }
        finally
        {
            worker.Signal("CONT");
        }

        Assert.Equal(200, (await first).Status);
        Assert.Equal(2, await s.WorkerMetricAsync("tessera_worker_requests_total", answered, worker)); // the warm-up and the first, not the abandoned one
        Assert.Equal(200, (await s.InferAsync("m", x)).Status);
        Assert.Equal(3, await s.WorkerMetricAsync("tessera_worker_requests_total", answered, worker));
    }

    [Fact]
    public async Task ServeWorkersStartsLocalWorkersServesThroughThemAndStopsThemOnSigterm()
    {
        using var fx = new ClusterFixture();
        var model = Model(61);
        string path = fx.Save(model, "m.onnx");
        using var serve = new ServeProcess("--model", path, "--workers", "2", "--http", "127.0.0.1:0", "--max-batch-size", "4");
        await serve.WaitUntilListeningAsync();
        string[] workers = serve.LocalWorkerAddresses();
        Assert.Equal(2, workers.Length);

        var x = ClusterFixture.Random([3, 16], 62);
        using (var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x))))
        using (var response = await serve.Client.PostAsync("/v2/models/m/infer", content))
        {
            var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            Assert.Equal(Expected(model, x), Wire.Fp32Output(body, "y").ToArray<float>());
        }

        string metrics = await serve.Client.GetStringAsync("/metrics");
        Assert.All(workers, w => Assert.Contains($"address=\"{w}\"}} 1", metrics));

        Assert.Equal(0, await serve.TerminateAsync());
        foreach (string w in workers)
        {
            await ServeProcess.AssertNothingListensAsync(w);
        }
    }

    [Fact]
    public async Task ServePlanServesAPipelinePlanOnRunningWorkers()
    {
        using var fx = new ClusterFixture();
        var model = Model(71);
        string path = fx.Save(model, "m.onnx");
        using var w0 = fx.StartWorker();
        using var w1 = fx.StartWorker();
        string cluster = Path.Combine(fx.Directory, "cluster.json");
        File.WriteAllText(cluster, new ClusterDescription
        {
            Nodes = [new ClusterNode { Name = "a", Address = w0.Address, MemoryBytes = 1L << 30 }, new ClusterNode { Name = "b", Address = w1.Address, MemoryBytes = 1L << 30 }],
        }.ToJson());
        string folder = Path.Combine(fx.Directory, "plan");
        var plan = CliProcess.Run("plan", "--model", path, "--cluster", cluster, "--input-shape", "x=4x16", "--strategy", "pipeline", "--stages", "2", "--calibration", "defaults", "--out", folder);
        Assert.True(plan.ExitCode == 0, plan.Stderr);

        using var serve = new ServeProcess("--model", path, "--plan", Path.Combine(folder, "plan.json"), "--cluster", cluster, "--token-file", fx.TokenFile, "--http", "127.0.0.1:0", "--max-batch-size", "8");
        await serve.WaitUntilListeningAsync();
        var x = ClusterFixture.Random([5, 16], 72);
        using var content = new StringContent(Wire.Request(Wire.Fp32Input("x", x)));
        using var response = await serve.Client.PostAsync("/v2/models/m/infer", content);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal(Expected(model, x), Wire.Fp32Output(body, "y").ToArray<float>());
        Assert.Equal(0, await serve.TerminateAsync());
        Assert.False(w0.HasExited || w1.HasExited); // workers of a cluster file are not the server's to stop
    }
}
