using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Real `tessera worker` processes on loopback: shipping, caching, running, pipelines, refusals, failover.</summary>
public sealed class WorkerTests : IDisposable
{
    private const int K = 24;
    private const int N = 40;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    private static Route Single(WorkerClient worker, ModelFile model, IReadOnlyList<string> inputs) =>
        new([new RouteStep(worker, model.Hash, inputs)]);

    [Fact]
    public async Task ShippedModelRunsBitIdenticalToLocalSession()
    {
        using var worker = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 1), "whole.onnx"));
        var loaded = await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        Assert.Equal(["x"], loaded.Inputs);
        Assert.Equal(["y"], loaded.Outputs);

        var x = ClusterFixture.Random([5, K], 7);
        var result = await coordinator.RunAsync(Single(coordinator.Workers[0], model, ["x"]), new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
        var expected = ClusterFixture.Reference(ClusterFixture.Whole(K, N, 1), "x", x, "y");
        Assert.Equal(expected.Shape, result["y"].Shape);
        Assert.Equal(expected.ToArray<float>(), result["y"].ToArray<float>());
    }

    [Fact]
    public async Task CachedModelIsNotShippedAgainAfterRestart()
    {
        string cache = _fx.NewCacheDir();
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 2), "m.onnx"));
        using (var first = _fx.StartWorker(cache))
        {
            await using var c = await _fx.CoordinatorAsync(first);
            await c.EnsureModelAsync(c.Workers[0], model);
            Assert.True(first.WaitForLog("stored"));
        }

        using var second = _fx.StartWorker(cache);
        await using var coordinator = await _fx.CoordinatorAsync(second);
        await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        Assert.True(second.WaitForLog("loaded"));
        Assert.DoesNotContain("stored", second.Log);
    }

    [Fact]
    public async Task PipelineStagesPassTensorsWorkerToWorker()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(K, N, 3), "s1.onnx"));
        var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(K, N, 3), "s2.onnx"));
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        await coordinator.EnsureModelAsync(wa, s1);
        await coordinator.EnsureModelAsync(wb, s2);
        var route = new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]);

        // Several micro-batches in flight at once, each checked against the single-process run of the whole model.
        var batches = Enumerable.Range(0, 6).Select(i => ClusterFixture.Random([3, K], 100 + i)).ToArray();
        var results = await Task.WhenAll(batches.Select(x => coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"])));
        for (int i = 0; i < batches.Length; i++)
        {
            var expected = ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", batches[i], "y");
            Assert.Equal(expected.ToArray<float>(), results[i]["y"].ToArray<float>());
        }

        // Stage 2 got its tensors from worker a over a peer link, not from the coordinator.
        Assert.True(b.WaitForLog("as Peer"), b.Log);
    }

    [Fact]
    public async Task WrongTokenIsRefusedAndLoggedWhileOthersAreServed()
    {
        using var worker = _fx.StartWorker();
        var wrong = new ClusterToken(ClusterToken.NewSecret());
        var error = await Assert.ThrowsAsync<ClusterException>(() =>
            ClusterConnection.ConnectAsync(worker.Address, wrong, ConnectionRole.Coordinator, Guid.NewGuid(), TransportLimits.Default, default));
        Assert.Equal(ClusterErrorCode.Unauthorized, error.Code);
        Assert.True(worker.WaitForLog("Unauthorized"), worker.Log);

        await using var coordinator = await _fx.CoordinatorAsync(worker);
        Assert.True(coordinator.Workers[0].IsUp);
    }

    [Fact]
    public async Task WrongVersionGarbageAndOversizedFramesAreRefused()
    {
        using var worker = _fx.StartWorker();

        // A HELLO of protocol version 99.
        var hello = new HelloMessage(99, ConnectionRole.Coordinator, Guid.NewGuid(), new byte[Protocol.NonceBytes]).Write().Written.ToArray();
        var reply = await RawExchange.SendAsync(worker.Address, RawExchange.Frame(FrameType.Hello, 0, hello));
        Assert.Equal(ClusterErrorCode.VersionMismatch, reply.Code);
        Assert.Contains("version 99", reply.Message);

        // Garbage: not a header at all.
        var garbage = new byte[64];
        new Random(5).NextBytes(garbage);
        garbage[5] = 1;
        reply = await RawExchange.SendAsync(worker.Address, garbage);
        Assert.Equal(ClusterErrorCode.Malformed, reply.Code);

        // A header announcing 100 MB of control payload.
        reply = await RawExchange.SendAsync(worker.Address, RawExchange.Header(FrameType.Hello, 100_000_000));
        Assert.Equal(ClusterErrorCode.FrameTooLarge, reply.Code);

        Assert.True(worker.WaitForLog("VersionMismatch") && worker.WaitForLog("Malformed") && worker.WaitForLog("FrameTooLarge"), worker.Log);
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        Assert.True(coordinator.Workers[0].IsUp);
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task OversizedTensorAfterAuthenticationClosesOnlyThatConnection()
    {
        using var worker = _fx.StartWorker();
        await using var good = await _fx.CoordinatorAsync(worker);
        await using var bad = await ClusterConnection.ConnectAsync(worker.Address, _fx.Token, ConnectionRole.Coordinator, Guid.NewGuid(), TransportLimits.Default, default);
        await bad.Writer.SendRawAsync(RawExchange.Header(FrameType.Tensor, uint.MaxValue), default);
        var frame = await bad.Reader.ReadAsync(TimeSpan.FromSeconds(10), default);
        Assert.NotNull(frame);
        Assert.Equal(FrameType.Error, frame.Type);
        Assert.Equal(ClusterErrorCode.FrameTooLarge, ErrorMessage.Read(frame.Payload).Code);
        Assert.True(worker.WaitForLog("FrameTooLarge"), worker.Log);

        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 4), "m.onnx"));
        await good.EnsureModelAsync(good.Workers[0], model);
        Assert.True(good.Workers[0].IsUp);
    }

    [Fact]
    public async Task HashMismatchAndMemoryBudgetAreRefusedClearly()
    {
        using var worker = _fx.StartWorker(null, "--memory-budget", "20K");
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var w = coordinator.Workers[0];
        string path = _fx.Save(ClusterFixture.Whole(K, N, 5), "m.onnx");
        var real = ModelFile.FromPath(path);

        var lying = real with { Hash = new byte[32] };
        var mismatch = await Assert.ThrowsAsync<ClusterException>(() => coordinator.EnsureModelAsync(w, lying));
        Assert.Equal(ClusterErrorCode.HashMismatch, mismatch.Code);

        string big = _fx.Save(ClusterFixture.Whole(256, 64, 6), "big.onnx");
        var budget = await Assert.ThrowsAsync<ClusterException>(() => coordinator.EnsureModelAsync(w, ModelFile.FromPath(big)));
        Assert.Equal(ClusterErrorCode.MemoryBudget, budget.Code);
        Assert.Contains("memory budget", budget.Message);

        // The worker still takes a model that fits.
        await coordinator.EnsureModelAsync(w, real);
        Assert.True(worker.WaitForLog("HashMismatch") && worker.WaitForLog("MemoryBudget"), worker.Log);
    }

    [Fact]
    public async Task FrozenWorkerIsMarkedDownAndItsRequestFailsOverToAReplica()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 8), "m.onnx"));
        foreach (var w in coordinator.Workers) await coordinator.EnsureModelAsync(w, model);
        var routes = coordinator.Workers.Select(w => Single(w, model, ["x"])).ToArray();

        a.Signal("STOP");
        try
        {
            // Route a is preferred (listed first, equally idle); the request sits there until a is found dead.
            var x = ClusterFixture.Random([2, K], 9);
            await using var deployment = TestDeployments.OnRoutes(coordinator, routes, ["x"], ["y"], batched: false);
            var result = await deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = x });
            Assert.False(coordinator.Workers[0].IsUp);
            Assert.Contains("stopped answering", coordinator.Workers[0].DownReason);
            Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(K, N, 8), "x", x, "y").ToArray<float>(), result["y"].ToArray<float>());
        }
        finally
        {
            a.Signal("CONT");
        }
    }

    [Fact]
    public async Task KilledWorkerWithoutReplicaFailsWithAClearError()
    {
        using var a = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a);
        var model = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 10), "m.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        a.Signal("STOP");
        await using var deployment = TestDeployments.OnRoutes(coordinator, [Single(coordinator.Workers[0], model, ["x"])], ["x"], ["y"]);
        var run = deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([2, K], 1) });
        await Task.Delay(100);
        a.Signal("KILL");
        var error = await Assert.ThrowsAsync<ClusterException>(() => run);
        Assert.Equal(ClusterErrorCode.WorkerDown, error.Code);
        Assert.Contains(a.Address, error.Message);
    }
}
