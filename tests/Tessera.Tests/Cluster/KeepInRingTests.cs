using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Results a coordinator's caller takes as views of the incoming shared ring (<see cref="KeepInRing"/>,
/// <see cref="Deployment.RunLeasedAsync"/>): kept while half the ring stays free, placed or copied beyond that, never
/// overwritten while held, and the ring going on in order once they are given back; with <c>callerNeverBlocks</c> the
/// caller goes on on the receive loop that read the answer, without it always on the thread pool.
/// </summary>
public sealed class KeepInRingTests : IDisposable
{
    private const int K = 24;
    private const int N = 40;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task AReaderKeepsResultsWhileHalfTheRingIsFreeAndPlacesTheRest()
    {
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (connected, accepted) = await _fx.ConnectedPairAsync(limits);
        await using var worker = connected;
        await using var coordinator = accepted;
        Assert.Equal("shared memory", worker.TensorPath);

        // 200 KiB each: two fit in half of the 1 MiB ring, a third does not.
        Tensor Result(int seed) => ClusterFixture.Random([200, 256], seed);
        var target = Tensor.Allocate(DataType.Float32, [200, 256]);
        var place = KeepInRing.Around((_, _, _) => target);
        var read = new List<Tensor>();
        for (int i = 0; i < 3; i++)
        {
            await worker.Writer.SendAsync(FrameType.Result, (ulong)i + 1, new WireWriter().U16(1).Written, [new("y", Result(i))], default);
            Assert.Equal(FrameType.Result, (await coordinator.Reader.ReadAsync(Wait, default))!.Type);
            read.Add((await coordinator.Reader.ReadAsync(Wait, default, place))!.Tensor!);
        }

        Assert.IsType<RingLease>(read[0].StorageOwner);
        Assert.IsType<RingLease>(read[1].StorageOwner);
        Assert.Same(target, read[2]); // placed: keeping it would leave less than half the ring to the writer
        for (int i = 0; i < 3; i++) Assert.Equal(Result(i).ToArray<float>(), read[i].ToArray<float>());

        // Given back, the ring's space is the writer's again, and the next result is kept once more.
        RingLease.GiveBack(read);
        for (int i = 3; i < 9; i++)
        {
            await worker.Writer.SendAsync(FrameType.Result, (ulong)i + 1, new WireWriter().U16(1).Written, [new("y", Result(i))], default).WaitAsync(Wait);
            Assert.Equal(FrameType.Result, (await coordinator.Reader.ReadAsync(Wait, default))!.Type);
            var kept = (await coordinator.Reader.ReadAsync(Wait, default, place))!.Tensor!;
            Assert.IsType<RingLease>(kept.StorageOwner);
            Assert.Equal(Result(i).ToArray<float>(), kept.ToArray<float>());
            RingLease.GiveBack(kept);
        }
    }

    [Fact]
    public async Task LeasedOutputsOfAWorkerOnThisHostViewItsRingAreBitIdenticalAndHeldOnesAreNeverOverwritten()
    {
        using var process = _fx.StartWorker();
        await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { Limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20 } });
        var worker = await coordinator.ConnectAsync(process.Address);
        var whole = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 3), "whole.onnx"));
        await coordinator.EnsureModelAsync(worker, whole);
        await using var deployment = TestDeployments.OnRoutes(coordinator, [new Route([new RouteStep(worker, whole.Hash, ["x"])])], ["x"], ["y"]);
        var inputs = Enumerable.Range(0, 12).Select(i => ClusterFixture.Random([1000, K], 500 + i)).ToArray();
        var expected = inputs.Select(x => ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", x, "y").ToArray<float>()).ToArray();
        Task<DeploymentOutputs> Run(int i) => deployment.RunLeasedAsync(new Dictionary<string, Tensor> { ["x"] = inputs[i] }).WaitAsync(Wait);

        // The link settles on shared memory once the worker's answer to the offer is read: wait for it (bounded).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (worker.TensorPath != "shared memory" && clock.Elapsed < Wait)
        {
            (await Run(0)).Dispose();
        }

        Assert.Equal("shared memory", worker.TensorPath);

        // Given back at once, every result (96 KiB of y) stays in the ring, lap after lap of the 1 MiB ring.
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                using var result = await Run(i);
                Assert.True(result.InRing);
                Assert.Equal(expected[i], result["y"].ToArray<float>());
            }
        }

        // Held, the first stay in the ring up to half of it (five, or four when the ring's end falls among them), later
        // ones are copied out; none is overwritten by those that follow.
        var held = new List<DeploymentOutputs>();
        for (int i = 0; i < 7; i++) held.Add(await Run(i));
        int inRing = held.TakeWhile(h => h.InRing).Count();
        Assert.InRange(inRing, 4, 5);
        Assert.All(held.Skip(inRing), h => Assert.False(h.InRing));
        for (int i = 0; i < held.Count; i++) Assert.Equal(expected[i], held[i]["y"].ToArray<float>());
        held.ForEach(h => h.Dispose());

        using (var again = await Run(7))
        {
            Assert.True(again.InRing);
            Assert.Equal(expected[7], again["y"].ToArray<float>());
        }

        // The plain RunAsync copies, as before.
        var plain = await deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = inputs[8] }).WaitAsync(Wait);
        Assert.IsNotType<RingLease>(plain["y"].StorageOwner);
        Assert.Equal(expected[8], plain["y"].ToArray<float>());

        // On a chosen placement (as batch jobs run their shards): RunOnLeasedAsync leaves the outputs in the ring, RunOnAsync copies.
        using (var onPlacement = await deployment.RunOnLeasedAsync(deployment.Placements[0], new Dictionary<string, Tensor> { ["x"] = inputs[9] }).WaitAsync(Wait))
        {
            Assert.True(onPlacement.InRing);
            Assert.Equal(expected[9], onPlacement["y"].ToArray<float>());
        }

        var copied = await deployment.RunOnAsync(deployment.Placements[0], new Dictionary<string, Tensor> { ["x"] = inputs[10] }).WaitAsync(Wait);
        Assert.IsNotType<RingLease>(copied["y"].StorageOwner);
        Assert.Equal(expected[10], copied["y"].ToArray<float>());
    }

    [Fact]
    public async Task LeasedOutputsFailOverWhenAWorkerIsKilledAndStayBitIdentical()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var whole = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 3), "whole.onnx"));
        foreach (var w in coordinator.Workers) await coordinator.EnsureModelAsync(w, whole);
        await using var deployment = TestDeployments.OnRoutes(coordinator, coordinator.Workers.Select(w => new Route([new RouteStep(w, whole.Hash, ["x"])])), ["x"], ["y"]);
        var inputs = Enumerable.Range(0, 24).Select(i => ClusterFixture.Random([2000, K], 700 + i)).ToArray();

        // Batches in flight on both workers while b is killed: every one ends with b's outputs or a's, bit-identical.
        var runs = inputs.Select(x => deployment.RunLeasedAsync(new Dictionary<string, Tensor> { ["x"] = x })).ToList();
        b.Signal("KILL");
        for (int i = 0; i < runs.Count; i++)
        {
            using var result = await runs[i].WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", inputs[i], "y").ToArray<float>(), result["y"].ToArray<float>());
        }

        using var after = await deployment.RunLeasedAsync(new Dictionary<string, Tensor> { ["x"] = inputs[0] }).WaitAsync(Wait);
        Assert.True(after.InRing);
    }

    [Fact]
    public async Task ACallerThatNeverBlocksGoesOnOnTheReceiveLoopAndAnyOtherOnThePool()
    {
        using var process = _fx.StartWorker();
        await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions);
        var worker = await coordinator.ConnectAsync(process.Address);
        var whole = ModelFile.FromPath(_fx.Save(ClusterFixture.Whole(K, N, 3), "whole.onnx"));
        await coordinator.EnsureModelAsync(worker, whole);
        await using var deployment = TestDeployments.OnRoutes(coordinator, [new Route([new RouteStep(worker, whole.Hash, ["x"])])], ["x"], ["y"]);
        var x = ClusterFixture.Random([64, K], 7);
        var expected = ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", x, "y").ToArray<float>();
        var feeds = new Dictionary<string, Tensor> { ["x"] = x };

        // Where the caller goes on after the answer (a run that went on on the calling thread, its answer already there,
        // says nothing and is tried again, a bounded number of times).
        async Task<bool?> OnReceiveLoop(bool callerNeverBlocks)
        {
            int caller = Environment.CurrentManagedThreadId;
            var run = deployment.RunLeasedAsync(feeds, callerNeverBlocks: callerNeverBlocks);
            // Runs where the caller's continuation would: on the thread that completes the run.
            var where = run.ContinueWith(_ => (PendingRequests.Answering, Environment.CurrentManagedThreadId), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var (answering, thread) = await where.WaitAsync(Wait);
            using var outputs = await run.WaitAsync(Wait);
            Assert.Equal(expected, outputs["y"].ToArray<float>());
            return thread != caller ? answering : null;
        }

        bool? inline = null, pooled = null;
        for (int attempt = 0; attempt < 20 && (inline is null || pooled is null); attempt++)
        {
            inline ??= await OnReceiveLoop(callerNeverBlocks: true);
            pooled ??= await OnReceiveLoop(callerNeverBlocks: false);
        }

        Assert.True(inline);
        Assert.False(pooled);
    }
}
