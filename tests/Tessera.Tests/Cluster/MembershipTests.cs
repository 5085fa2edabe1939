using Tessera.Tests.Support;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Membership;
using Tessera.Cluster.Transport;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Members from a description file, from DNS names, and workers joining a running coordinator.</summary>
public sealed class MembershipTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task DnsNamesExpandToEveryAddressAndFilesListTheirNodes()
    {
        var resolved = await MemberResolver.ResolveAsync(["dns:localhost:7001", "10.1.2.3:9000"]);
        Assert.Contains("127.0.0.1:7001", resolved);
        Assert.Contains("10.1.2.3:9000", resolved);
        Assert.All(resolved, a => Assert.True(ClusterAddress.TryParse(a, out _, out _), a));

        string file = Path.Combine(_fx.Directory, "cluster.json");
        File.WriteAllText(file, """{"nodes":[{"name":"a","address":"127.0.0.1:7001"},{"name":"b","address":"dns:localhost:7002"}],"link":{}}""");
        var members = await MemberResolver.FromClusterFileAsync(file);
        Assert.Equal("127.0.0.1:7001", members[0]);
        Assert.Contains("127.0.0.1:7002", members);

        File.WriteAllText(file, """{"nodes":[{"name":"a"}]}""");
        Assert.Equal(ClusterErrorCode.BadRequest, (await Assert.ThrowsAsync<ClusterException>(() => MemberResolver.FromClusterFileAsync(file))).Code);
        Assert.Equal(ClusterErrorCode.BadRequest, (await Assert.ThrowsAsync<ClusterException>(() => MemberResolver.ResolveAsync(["dns:no-such-host.invalid:1"]))).Code);
    }

    [Fact]
    public async Task WorkerJoinsARunningCoordinatorAndServesIt()
    {
        await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions);
        await using var listener = new JoinListener(coordinator, _fx.Token, "127.0.0.1:0");
        var joined = new TaskCompletionSource<WorkerClient>();
        coordinator.WorkerAdded += w => joined.TrySetResult(w);

        using var worker = _fx.StartWorker(null, "--join", listener.Address);
        var client = await joined.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(worker.Address, client.Address);

        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(8, 8, 1), "m.onnx"));
        await coordinator.EnsureModelAsync(client, model);
        var x = ClusterFixture.Random([2, 8], 3);
        var y = await coordinator.RunAsync(new Route([new RouteStep(client, model.Hash, ["x"])]), new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
        Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(8, 8, 1), "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());
    }

    [Fact]
    public async Task AJoinedWorkerRestartedOnItsPortJoinsAgainAndIsBroughtBackAsTheSameClient()
    {
        await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions);
        await using var listener = new JoinListener(coordinator, _fx.Token, "127.0.0.1:0");
        var joined = new TaskCompletionSource<WorkerClient>();
        coordinator.WorkerAdded += w => joined.TrySetResult(w);
        var revived = new TaskCompletionSource<WorkerClient>();
        coordinator.WorkerRevived += w => revived.TrySetResult(w);

        var worker = _fx.StartRestartableWorker("--join", listener.Address);
        var client = await joined.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var whole = ClusterFixture.Whole(8, 8, 2);
        var model = ModelFile.FromPath(_fx.Save(whole, "m.onnx"));
        await coordinator.EnsureModelAsync(client, model);
        var route = new Route([new RouteStep(client, model.Hash, ["x"])]);

        worker.Dispose(); // killed
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (client.IsUp && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.False(client.IsUp);

        using var restarted = WorkerProcess.At(worker.Address, _fx.TokenFile, _fx.NewCacheDir(), "--join", listener.Address);
        Assert.Same(client, await revived.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(client.IsUp);
        Assert.Single(coordinator.Workers); // the join of a known address added no second client
        var x = ClusterFixture.Random([2, 8], 4);
        var y = await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
        Assert.Equal(ClusterFixture.Reference(whole, "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());
    }

    /// <summary>
    /// A worker restarted on its port with a memory budget its model does not fit: the coordinator hears it answer,
    /// fails to ship the model back, keeps it down, and asks again less and less often (not every interval).
    /// </summary>
    [Fact]
    public async Task AWorkerThatComesBackButCannotTakeItsModelsStaysDownAndIsAskedLessAndLessOften()
    {
        using var loggers = new CountingLoggers();
        var options = ClusterFixture.FastOptions with { ReconnectInterval = TimeSpan.FromMilliseconds(100) };
        await using var coordinator = new ClusterCoordinator(_fx.Token, options, loggers);
        var worker = _fx.StartRestartableWorker();
        var client = await coordinator.ConnectAsync(worker.Address);
        await coordinator.EnsureModelAsync(client, ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(8, 8, 3), "m.onnx")));

        worker.Dispose(); // killed
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (client.IsUp && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.False(client.IsUp);

        using var restarted = WorkerProcess.At(worker.Address, _fx.TokenFile, _fx.NewCacheDir(), "--memory-budget", "1");
        const string refused = "cannot take its models back";
        // Five refusals, each after a wait twice the one before (200 ms after the first, then 400, 800, 1600): the gaps
        // are at least those waits however slow the machine, which only adds to them. At a fixed interval they would
        // be 100 ms and a probe's time. (Before, a count of probes in a 4 s window, at least one: a 3.2 s wait plus
        // a probe that a starved host made take over 0.8 s left none.)
        const int Refusals = 5;
        clock.Restart();
        while (loggers.Count(refused) < Refusals && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        var at = loggers.Timestamps(refused);
        Assert.True(at.Count >= Refusals, string.Join("\n", loggers.Messages.Select(m => m.Message)));
        Assert.Contains(loggers.Messages, m => m.Level == Microsoft.Extensions.Logging.LogLevel.Warning && m.Message.Contains("memory budget", StringComparison.Ordinal));
        for (int i = 1; i < Refusals; i++)
        {
            var wait = options.ReconnectInterval * (1 << i);
            var gap = System.Diagnostics.Stopwatch.GetElapsedTime(at[i - 1], at[i]);
            Assert.True(gap >= wait * 0.95, $"refusal {i + 1} came {gap.TotalMilliseconds:0} ms after the one before, sooner than the {wait.TotalMilliseconds:0} ms backoff");
        }

        Assert.False(client.IsUp);
    }
}
