using System.Diagnostics;
using Tessera.Cluster.Deployments;
using Tessera.Partitioning.Planning;
using Tessera.Serving.Backends;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Serving;

/// <summary>
/// A server whose cluster grows while it serves: workers that join (`tessera worker --join`) get work without a
/// restart; a worker with the wrong token is refused in one log line while the server keeps serving.
/// </summary>
public sealed class JoiningWorkerTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task AWorkerJoiningARunningServerAnswersRequestsWithinFiveSecondsAndAWrongTokenIsRefused()
    {
        var model = ClusterServingTests.Model(81);
        string repository = ClusterServer.WriteRepository(Path.Combine(_fx.Directory, "models"), ("m", model, "{\"scheduling\": \"round_robin\"}"));
        using var first = _fx.StartWorker();
        var node = new ClusterNode { Name = "first", Address = first.Address, MemoryBytes = 1L << 30 };
        await using var cluster = await ServingCluster.StartAsync(_fx.Token, [node], 1, DeploymentStrategy.Data, ClusterFixture.FastOptions, joinListen: "127.0.0.1:0");
        cluster.DeploymentOptions = DeploymentOptions.Elastic(TimeSpan.FromSeconds(2));
        await using var server = await ServingServer.StartAsync(new ServerOptions { Url = "http://127.0.0.1:0" }, log => ModelRepository.LoadDirectory(repository, new ModelConfig(), log, cluster));
        using var client = new HttpClient { BaseAddress = new Uri(server.Addresses[0]) };
        var x = ClusterFixture.Random([2, 16], 82);
        var expected = ClusterFixture.Reference(model, "x", x, "y").ToArray<float>();
        var backend = (ClusterBackend)server.Models.Find("m", null).Backend;
        Assert.Single(backend.Routes);

        // The wrong token: refused and logged, nothing added.
        string wrong = Path.Combine(_fx.Directory, "wrong-token");
        File.WriteAllText(wrong, "not-the-token-of-this-cluster");
        using var stranger = WorkerProcess.At("127.0.0.1:0", wrong, _fx.NewCacheDir(), "--join", cluster.JoinAddress!);
        Assert.True(stranger.WaitForLog("cannot join coordinator", TimeSpan.FromSeconds(10)), stranger.Log);

        TimeSpan? answering = null;
        // Within five seconds on a quiet host; a starved one takes longer to ship the model and load it on the joiner
        // (the load goes on until the joiner is seen answering or the wait below ends).
        var within = MachineLoad.Stretch(TimeSpan.FromSeconds(5));
        var load = await ClosedLoad.RunAsync(client, "m", x, body => Wire.Fp32Output(body, "y").ToArray<float>().SequenceEqual(expected), clients: 2, TimeSpan.FromSeconds(8), async _ =>
        {
            using var joiner = _fx.StartWorker(null, "--join", cluster.JoinAddress!);
            Assert.True(joiner.WaitForLog("joined coordinator", MachineLoad.Stretch(TimeSpan.FromSeconds(10))), joiner.Log);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < within * 2)
            {
                string metrics = await client.GetStringAsync("/metrics");
                if (metrics.Split('\n').Any(l => l.StartsWith("tessera_worker_requests_total{", StringComparison.Ordinal) && l.Contains($"address=\"{joiner.Address}\"", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal)))
                {
                    answering = clock.Elapsed;
                    break;
                }

                await Task.Delay(100);
            }

            Assert.Equal(2, backend.Routes.Count);
        });

        Assert.Empty(load.Failures);
        Assert.True(answering < within, $"the joined worker answered after {answering?.TotalSeconds} s (allowed {within.TotalSeconds:0.#} s at this load)");
        Assert.DoesNotContain(backend.Routes.SelectMany(r => r.Workers), w => w.Address == stranger.Address);
    }
}
