using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Workers measure what their runs cost at each batch size and say which host they share; a pipeline cuts micro-batches by it.</summary>
public sealed class RunCostTests : IDisposable
{
    private const int K = 24;
    private const int N = 40;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task EachStageCountsItsRunsByBatchSizeLeavingTheFirstOut()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        Assert.Equal((HostIdentity.BootId, Environment.ProcessorCount), (wa.Info.HostId, wa.Info.Processors));
        Assert.NotEqual(Guid.Empty, wa.Info.HostId);

        var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(K, N, 3), "s1.onnx"));
        var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(K, N, 3), "s2.onnx"));
        await coordinator.EnsureModelAsync(wa, s1);
        await coordinator.EnsureModelAsync(wb, s2);
        Assert.Empty(await coordinator.MeasuredCostsAsync(wa, s1.Hash));
        var route = new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]);
        foreach (int rows in new[] { 3, 3, 3, 5 })
        {
            await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([rows, K], rows) }, ["y"]);
        }

        foreach (var (worker, model) in new[] { (wa, s1), (wb, s2) })
        {
            var costs = await coordinator.MeasuredCostsAsync(worker, model.Hash);
            var three = Assert.Single(costs); // 5 rows ran once: its warm-up run
            Assert.Equal((3, 2), (three.Rows, three.Runs));
            Assert.InRange(three.SecondsPerRun, 1e-7, 1);
        }

        Assert.Empty(await coordinator.MeasuredCostsAsync(wa, s2.Hash)); // not loaded there
    }

    [Fact]
    public void OnceASizesCostIsAveragedOnlyEverySixteenthRunIsTimed()
    {
        var costs = new Tessera.Cluster.Worker.RunCosts();
        int timed = 0;
        for (int run = 0; run < 6 + 160; run++)
        {
            if (!costs.WantsTiming(4)) continue;
            timed++;
            costs.Record(4, 0.001);
        }

        // The warm-up run and the 5 averaged ones, then 1 in 16 of the next 160.
        Assert.Equal(6 + 10, timed);
        Assert.Equal((4, 5 + 10), (costs.Snapshot().Single().Rows, costs.Snapshot().Single().Runs));
        Assert.True(costs.WantsTiming(8)); // a new size is timed from its first run
        Assert.False(costs.WantsTiming(0));
    }

    [Fact]
    public void ASizeRunRarelyAmongOthersIsTimedEachTime()
    {
        var costs = new Tessera.Cluster.Worker.RunCosts();
        for (int run = 0; run < 6; run++)
        {
            Assert.True(costs.WantsTiming(8));
            costs.Record(8, 0.024); // measured in a bad minute
        }

        int timedTwos = 0;
        for (int batch = 0; batch < 64 * 5; batch++)
        {
            // A pipeline's 2-row pieces, and one whole 8-row batch in 64 sent to measure it again.
            int rows = batch % 64 == 63 ? 8 : 2;
            if (!costs.WantsTiming(rows)) continue;
            if (rows == 2) timedTwos++;
            costs.Record(rows, rows == 8 ? 0.003 : 0.001);
        }

        // Every 8-row run came after more than 16 others: all 5 were timed, and its cost moved towards the new one.
        var eight = costs.Snapshot().Single(c => c.Rows == 8);
        Assert.Equal(5 + 5, eight.Runs);
        Assert.True(eight.SecondsPerRun < 0.012, $"{eight.SecondsPerRun}");
        // The frequent size stays sampled: its warm-up and 5 averaged runs, then about 1 in 16.
        Assert.InRange(timedTwos, 6 + 15, 6 + 21);
    }

    [Fact]
    public void ARunTakenOffItsCoreDoesNotMoveTheCostButAChangeThatLastsDoes()
    {
        var costs = new Tessera.Cluster.Worker.RunCosts();
        double Cost() => costs.Snapshot().Single().SecondsPerRun;
        costs.Record(8, 0.5); // the warm-up run, left out
        for (int run = 0; run < 6; run++) costs.Record(8, 0.003);
        costs.Record(8, 0.024); // one run that another process took the core from part-way
        Assert.Equal(0.003, Cost());
        // The worker slows down for good: once most of the latest runs say so, the cost follows.
        for (int run = 0; run < 3; run++) costs.Record(8, 0.004);
        Assert.Equal(0.004, Cost());
        Assert.Equal(10, costs.Snapshot().Single().Runs);
    }

    [Fact]
    public async Task APipelineChoosingItsMicroBatchesStaysBitIdentical()
    {
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(K, N, 4), "s1.onnx"));
        var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(K, N, 4), "s2.onnx"));
        await coordinator.EnsureModelAsync(wa, s1);
        await coordinator.EnsureModelAsync(wb, s2);
        var route = new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]);
        await using var deployment = TestDeployments.OnRoutes(coordinator, [route], ["x"], ["y"]);
        Assert.Equal(2, deployment.Placements[0].Concurrency); // two stages on this host, which has at least two processors
        var x = ClusterFixture.Random([8, K], 11);
        var expected = ClusterFixture.Reference(ClusterFixture.Whole(K, N, 4), "x", x, "y").ToArray<float>();
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(expected, (await deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = x }))["y"].ToArray<float>());
            if (i == 5) await Task.Delay(1100); // the costs are asked for once a second
        }

        // Both ends of the cut were tried and measured: the whole batch and the finest pieces (8 pieces of one row).
        var costs = await coordinator.MeasuredCostsAsync(wb, s2.Hash);
        Assert.Contains(costs, c => c.Rows == 8);
        Assert.Contains(costs, c => c.Rows == 1);
    }
}
