using Tessera.Tests.Cluster;

namespace Tessera.Tests.Serving;

/// <summary>A served model's worker that is killed and started again on its port is brought back and used again.</summary>
public sealed class WorkerRevivalTests
{
    private const string Answered = "model=\"m\",version=\"1\",";

    [Fact]
    public async Task AWorkerRestartedOnItsPortIsUpAgainGetsItsModelBackAndServes()
    {
        var model = ClusterServingTests.Model(91);
        await using var s = await ClusterServer.StartAsync(2, ("m", model, "{\"scheduling\": \"round_robin\"}"));
        var x = ClusterFixture.Random([3, 16], 92);
        float[] expected = ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();
        for (int i = 0; i < 2; i++) Assert.Equal(200, (await s.InferAsync("m", x)).Status);

        s.Workers[1].Dispose(); // killed
        await WaitForUpAsync(s, s.Workers[1], 0);
        for (int i = 0; i < 4; i++)
        {
            var (status, body) = await s.InferAsync("m", x);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(expected, Wire.Fp32Output(body, "y").ToArray<float>());
        }

        double before = await s.WorkerMetricAsync("tessera_worker_requests_total", Answered, s.Workers[1]) ?? 0;
        var restarted = s.RestartWorker(1);
        await WaitForUpAsync(s, restarted, 1);
        // Its cache is empty: the model was shipped to it again.
        Assert.True(restarted.WaitForLog("stored"), restarted.Log);
        // Down past the deployment's grace (5 s: a starved host's requests and polls above can take that long), the
        // model was placed again without it, and gets it back a moment after it is up: wait for its route.
        await WaitForRouteAsync(s, "m", restarted);

        for (int i = 0; i < 6; i++)
        {
            var (status, body) = await s.InferAsync("m", x);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(expected, Wire.Fp32Output(body, "y").ToArray<float>());
        }

        Assert.True(await s.WorkerMetricAsync("tessera_worker_requests_total", Answered, restarted) > before, "the restarted worker answered no request");
    }

    [Fact]
    public async Task APipelineStageWorkerRestartedOnItsPortGetsItsStageBackAndThePipelineServesAgain()
    {
        var model = ClusterServingTests.Model(93);
        await using var s = await ClusterServer.StartAsync(2, ("pipe", model, "{\"strategy\": \"pipeline\", \"workers\": [0, 1]}"));
        Assert.Equal(2, Assert.Single(s.Backend("pipe").Routes).Stages.Count);
        var x = ClusterFixture.Random([4, 16], 94);
        float[] expected = ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();
        Assert.Equal(200, (await s.InferAsync("pipe", x)).Status);

        s.Workers[1].Dispose(); // killed: the only route runs through it
        await WaitForUpAsync(s, s.Workers[1], 0);
        Assert.Equal(503, (await s.InferAsync("pipe", x)).Status);

        var restarted = s.RestartWorker(1);
        await WaitForUpAsync(s, restarted, 1);
        Assert.True(restarted.WaitForLog("stored"), restarted.Log); // its stage's sub-model, shipped again
        var (status, body) = await s.InferAsync("pipe", x);
        Assert.True(status == 200, body.ToString());
        Assert.Equal(expected, Wire.Fp32Output(body, "y").ToArray<float>());
    }

    /// <summary>Waits until a route of <paramref name="model"/> runs through <paramref name="worker"/> (at most 30 s).</summary>
    private static async Task WaitForRouteAsync(ClusterServer s, string model, WorkerProcess worker)
    {
        bool Routed() => s.Backend(model).Routes.Any(r => r.Workers.Any(w => w.Address == worker.Address));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!Routed() && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.True(Routed(), $"no route of '{model}' runs through {worker.Address} again");
    }

    /// <summary>Polls tessera_worker_up of the worker until it is <paramref name="value"/> (generous: workers start slowly on a busy host).</summary>
    private static async Task WaitForUpAsync(ClusterServer s, WorkerProcess worker, int value)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await s.WorkerMetricAsync("tessera_worker_up", "", worker) != value && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.Equal(value, await s.WorkerMetricAsync("tessera_worker_up", "", worker));
    }
}
