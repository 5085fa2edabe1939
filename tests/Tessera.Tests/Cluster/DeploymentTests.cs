using Tessera.Cluster.Deployments;
using Tessera.Cluster.Transport;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Pipeline;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The deployment core on fake stage backends: a batch split between placements by weight, a pipeline's share cut into
/// micro-batches read into their rows of the whole (or of the caller's tensors), and failover to a live placement.
/// </summary>
public sealed class DeploymentTests
{
    private static readonly Tensor X = Tensor.FromArray(Enumerable.Range(0, 8 * 3).Select(i => (float)i).ToArray(), 8, 3);

    private static readonly DeploymentModel Doubling = new(["x"], ["y"], new Dictionary<string, int> { ["x"] = 0 }, new Dictionary<string, int> { ["y"] = 0 });

    private static float[] Expected => [.. X.ToArray<float>().Select(v => 2 * v)];

    private static Dictionary<string, Tensor> Inputs => new() { ["x"] = X };

    private static Deployment Of(params Placement[] placements) => new("test", Doubling, new PlacementSet(placements));

    /// <summary>Holds every run of <paramref name="stages"/> until the result is set, so the batches sent meanwhile are all in flight together.</summary>
    private static TaskCompletionSource Hold(FakeStage[] stages)
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var stage in stages) stage.Hold = hold.Task;
        return hold;
    }

    /// <summary>Cuts the deployment's only placement has sent: one per batch it cut or sent whole.</summary>
    private static long CutsSent(Deployment deployment) => deployment.Placements.Single().MicroBatchCuts.Values.Sum();

    /// <summary>Polls <paramref name="done"/> until it holds, at most 30 s (the batches sent have chosen their cuts, however slowly).</summary>
    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done() && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
    }

    [Fact]
    public async Task APipelinesShareIsCutIntoMicroBatchesReadIntoTheCallersTensor()
    {
        var stages = new[] { new FakeStage("a"), new FakeStage("b"), new FakeStage("c") };
        // Three stages that do not chain: each runs its own piece; only the last computes y (the fake ignores its inputs' names).
        await using var deployment = new Deployment("test", Doubling, new PlacementSet([new Placement(stages, ["y"])]), new DeploymentOptions { MicroBatchesPerStage = 2 });
        var placement = deployment.Placements.Single();
        Assert.Equal(3, placement.ConcurrentStages);
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        var result = await deployment.RunAsync(Inputs, into: new Dictionary<string, Tensor> { ["y"] = mine });
        Assert.Equal(6, stages[2].Runs); // min(8 rows, 2 per stage x 3 stages)
        Assert.Same(mine, result["y"]);
        Assert.Equal(Expected, mine.ToArray<float>());
    }

    [Fact]
    public async Task MicroBatchesAreChosenByTheStagesMeasuredCostsOnceBothEndsAreMeasured()
    {
        // Each run costs 10 ms plus 0.1 ms per row: small pieces cost more than the bubble they save.
        BatchCost[] costs = [.. new[] { 1, 2, 3, 4, 5, 6, 7, 8 }.Select(n => new BatchCost(n, 3, (10 + (0.1 * n)) / 1e3))];
        var stages = new[] { new FakeStage("a") { Costs = costs }, new FakeStage("b") { Costs = costs }, new FakeStage("c") { Costs = costs } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>());
        }

        // The whole share once and the finest cut once (their costs are known as soon as they were sent), then the
        // choice: whole.
        Assert.Equal([8, .. Enumerable.Repeat(1, 8), 8, 8, 8, 8], stages[2].Rows);
    }

    [Fact]
    public void TheCutsAreChosenAgainOnlyWhenTheCostsReallyMoved()
    {
        BatchCost[][] Costs(double eight, int runs = 7, params BatchCost[] more) => [[new BatchCost(1, 7, 1e-3), new BatchCost(8, runs, eight), .. more]];
        var kept = Costs(8e-3);

        Assert.False(MicroBatcher.Moved(kept, Costs(8.3e-3))); // a median a few percent off: noise
        Assert.False(MicroBatcher.Moved(kept, Costs(7.7e-3)));
        Assert.True(MicroBatcher.Moved(kept, Costs(8.5e-3))); // more than 5%
        Assert.True(MicroBatcher.Moved(kept, Costs(7.5e-3)));
        Assert.True(MicroBatcher.Moved(Costs(8e-3, runs: 2), Costs(8e-3, runs: 3))); // a size trusted anew
        Assert.False(MicroBatcher.Moved(Costs(8e-3, runs: 3), Costs(8e-3, runs: 9))); // more runs of one already trusted
        Assert.True(MicroBatcher.Moved(kept, Costs(8e-3, 7, new BatchCost(16, 7, 15e-3)))); // a size measured anew
    }

    [Fact]
    public async Task ASizeMeasuredOnceIsSentAgainBeforeItsCostCounts()
    {
        // One run at 8 rows, far over its true cost, would make 1-row pieces look cheap; it is not trusted: the whole
        // share is sent until it has the runs to count (4: a worker leaves a size's first run out), and meanwhile, with
        // the finest cut explored, batches go in the default cut (2 per stage) rather than the one the outlier favours.
        BatchCost[] costs = [new BatchCost(1, 3, 1e-3), new BatchCost(8, 1, 80e-3)];
        var stages = new[] { new FakeStage("a") { Costs = costs }, new FakeStage("b") { Costs = costs }, new FakeStage("c") { Costs = costs } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>());
        }

        Assert.Equal([8, 8, 8, 8, .. Enumerable.Repeat(1, 8), 2, 2, 1, 1, 1, 1], stages[2].Rows);
    }

    [Fact]
    public async Task NowAndThenTheCutNotChosenIsMeasuredAgain()
    {
        BatchCost[] costs = [.. new[] { 1, 8 }.Select(n => new BatchCost(n, 3, (10 + (0.1 * n)) / 1e3))];
        var stages = new[] { new FakeStage("a") { Costs = costs }, new FakeStage("b") { Costs = costs } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 2 + 64; i++)
        {
            Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>());
        }

        // Explored (whole, then 1-row pieces), 63 choices of whole, then the 64th goes in the finest cut.
        Assert.Equal([8, .. Enumerable.Repeat(1, 8), .. Enumerable.Repeat(8, 63), .. Enumerable.Repeat(1, 8)], stages[1].Rows);
    }

    [Fact]
    public void TheCutNotChosenIsSentEverySixtyFourthChoiceAndAWholeBatchEveryEighthBehindAnother()
    {
        // Whole batches chosen (the pipeline not full): the 64th choice goes in the finest cut.
        Assert.True(MicroBatcher.Remeasures(64, pieces: 1, inFlight: 1));
        Assert.True(MicroBatcher.Remeasures(64, pieces: 1, inFlight: 2));
        Assert.False(MicroBatcher.Remeasures(63, pieces: 1, inFlight: 1));
        Assert.False(MicroBatcher.Remeasures(8, pieces: 1, inFlight: 2));
        // A cut chosen: whole every 64th alone, every 8th with others in flight.
        Assert.True(MicroBatcher.Remeasures(64, pieces: 6, inFlight: 1));
        Assert.False(MicroBatcher.Remeasures(8, pieces: 6, inFlight: 1));
        Assert.True(MicroBatcher.Remeasures(8, pieces: 6, inFlight: 2));
    }

    [Fact]
    public async Task AFullPipelineSendsBatchesWholeThoughItsPiecesLookCheaper()
    {
        // 1-row pieces measured at half the whole batch's cost per row (a curve timed under contention): a batch alone,
        // or behind one other on 3 stages, is cut; from the third in flight every stage has a batch and it goes whole.
        BatchCost[] costs = [new BatchCost(1, 3, 0.5e-3), new BatchCost(8, 3, 8e-3)];
        var stages = new[] { new FakeStage("a") { Costs = costs }, new FakeStage("b") { Costs = costs }, new FakeStage("c") { Costs = costs } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 2; i++) await deployment.RunAsync(Inputs); // both ends explored
        var hold = Hold(stages);
        var batches = Enumerable.Range(0, 5).Select(_ => deployment.RunAsync(Inputs)).ToArray(); // cut with 1 to 5 in flight
        await WaitUntilAsync(() => CutsSent(deployment) == 2 + 5);
        hold.SetResult();
        foreach (var batch in batches) Assert.Equal(Expected, (await batch)["y"].ToArray<float>());
        var cuts = deployment.Placements.Single().MicroBatchCuts;
        Assert.Equal(1 + 3, cuts["8"]); // explored, then with 3, 4 and 5 in flight
        Assert.Equal(1 + 2, cuts[string.Join('+', Enumerable.Repeat(1, 8))]); // explored, then alone and behind one
    }

    [Fact]
    public async Task TheWindowKeepsEveryStageOfEveryPlacementBusyWithOneBatchMore()
    {
        await using var pipeline = Of(new Placement([new FakeStage("a"), new FakeStage("b"), new FakeStage("c")], ["y"]));
        await using var replicas = Of(new Placement([new FakeStage("d")], ["y"]), new Placement([new FakeStage("e")], ["y"]));
        await using var both = Of(new Placement([new FakeStage("f"), new FakeStage("g")], ["y"]), new Placement([new FakeStage("h")], ["y"]));
        Assert.Equal(4, pipeline.Window); // 3 stages, then full (MicroBatchSchedule.IsFull), and one on its way
        Assert.Equal(3, replicas.Window);
        Assert.Equal(4, both.Window);
        Assert.True(MicroBatchSchedule.IsFull(pipeline.Window - 1, 3));
    }

    [Fact]
    public async Task AFullPipelineSendsBatchesWholeWithoutExploring()
    {
        // Stages whose costs are unknown: a batch alone explores (whole, then the finest cut, then the default cut while
        // the costs stay unknown), but with as many batches in flight as stages each goes whole at once, no cut sent to
        // measure (before, they took the exploring and default cuts too: 46 of 512 batches of a bench-cluster run).
        var stages = new[] { new FakeStage("a"), new FakeStage("b") };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int round = 0; round < 3; round++)
        {
            var hold = Hold(stages);
            var batches = Enumerable.Range(0, 4).Select(_ => deployment.RunAsync(Inputs)).ToArray(); // the first alone, then 2-4 in flight
            await WaitUntilAsync(() => CutsSent(deployment) == 4 * (round + 1));
            hold.SetResult();
            foreach (var batch in batches) Assert.Equal(Expected, (await batch)["y"].ToArray<float>());
        }

        var cuts = deployment.Placements.Single().MicroBatchCuts;
        Assert.Equal(1 + 9, cuts["8"]); // the first alone, and the 9 sent behind others
        Assert.Equal(1, cuts[string.Join('+', Enumerable.Repeat(1, 8))]); // the second alone
        Assert.Equal(1, cuts["2+2+2+2"]); // the third alone
        Assert.Equal(3, cuts.Count);
    }

    [Fact]
    public async Task ACutChosenWhileAnotherBatchIsInFlightSendsTheBatchWholeEveryEighthChoice()
    {
        // The whole batch measured at 10x its pieces' cost per row (as one timed while the machine was busy): the cut is
        // chosen, and each 8th choice made with another batch in flight (on 3 stages: not full) goes whole so that its
        // cost is timed again soon, not only at the 64th.
        BatchCost[] costs = [new BatchCost(1, 3, 1e-3), new BatchCost(8, 3, 80e-3)];
        var stages = new[] { new FakeStage("a") { Costs = costs }, new FakeStage("b") { Costs = costs }, new FakeStage("c") { Costs = costs } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 2; i++) await deployment.RunAsync(Inputs); // both ends explored
        for (int pair = 0; pair < 8; pair++)
        {
            var hold = Hold(stages);
            var alone = deployment.RunAsync(Inputs); // nothing else in flight: cut
            var behind = deployment.RunAsync(Inputs); // the 8th and 16th choices go whole
            await WaitUntilAsync(() => CutsSent(deployment) == 2 + 2 * (pair + 1));
            hold.SetResult();
            Assert.Equal(Expected, (await alone)["y"].ToArray<float>());
            Assert.Equal(Expected, (await behind)["y"].ToArray<float>());
        }

        var cuts = deployment.Placements.Single().MicroBatchCuts;
        Assert.Equal(3, cuts["8"]); // explored, then choices 8 and 16
        Assert.Equal(1 + 14, cuts[string.Join('+', Enumerable.Repeat(1, 8))]);
    }

    [Fact]
    public async Task CheapSmallPiecesAreCutFinelyAndStagesThatMeasureNothingGetTheDefaultCut()
    {
        BatchCost[] linear = [.. new[] { 1, 8 }.Select(n => new BatchCost(n, 3, n / 1e3))];
        var cheap = new[] { new FakeStage("a") { Costs = linear }, new FakeStage("b") { Costs = linear } };
        var silent = new[] { new FakeStage("c"), new FakeStage("d") };
        await using var measured = Of(new Placement(cheap, ["y"]));
        await using var unmeasured = Of(new Placement(silent, ["y"]));
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(Expected, (await measured.RunAsync(Inputs))["y"].ToArray<float>());
            Assert.Equal(Expected, (await unmeasured.RunAsync(Inputs))["y"].ToArray<float>());
        }

        // After exploring (the silent stages' ends 4 times each): 8 pieces of one row (at most 4 per stage), and for the
        // silent stages 2 per stage.
        Assert.Equal(Enumerable.Repeat(1, 8), cheap[1].Rows.TakeLast(8));
        Assert.Equal([2, 2, 2, 2], silent[1].Rows.TakeLast(4));
    }

    [Fact]
    public async Task ABatchCutWhileAnotherIsInFlightGoesWholeForTheOtherFillsTheBubble()
    {
        // 1 ms per row at any size: alone, a batch through 2 stages is cut into rows (9 ms against 16 whole); with a
        // batch already in flight, the two trips overlap and the pieces save nothing, so the next goes whole.
        BatchCost[] linear = [.. new[] { 1, 8 }.Select(n => new BatchCost(n, 3, n / 1e3))];
        var stages = new[] { new FakeStage("a") { Costs = linear }, new FakeStage("b") { Costs = linear } };
        await using var deployment = Of(new Placement(stages, ["y"]));
        for (int i = 0; i < 2; i++) await deployment.RunAsync(Inputs); // both ends explored
        var hold = Hold(stages); // the first stays in flight until the second is cut
        var alone = deployment.RunAsync(Inputs);
        var behind = deployment.RunAsync(Inputs);
        await WaitUntilAsync(() => CutsSent(deployment) == 4);
        hold.SetResult();
        Assert.Equal(Expected, (await alone)["y"].ToArray<float>());
        Assert.Equal(Expected, (await behind)["y"].ToArray<float>());
        var cuts = deployment.Placements.Single().MicroBatchCuts;
        Assert.Equal(2, cuts["8"]); // explored, then the batch cut while the first was in flight
        Assert.Equal(2, cuts[string.Join('+', Enumerable.Repeat(1, 8))]); // explored, then the batch cut alone
        Assert.Equal(0, deployment.Placements.Single().BatchesInFlight);
    }

    [Fact]
    public async Task WithOneMicroBatchPerStageTheShareGoesWholeIntoTheCallersTensor()
    {
        var stage = new FakeStage("a");
        await using var deployment = new Deployment("test", Doubling, new PlacementSet([new Placement([stage, new FakeStage("b")], ["y"])]), new DeploymentOptions { MicroBatchesPerStage = 1 });
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        var result = await deployment.RunAsync(Inputs, into: new Dictionary<string, Tensor> { ["y"] = mine });
        Assert.Equal(2, stage.Runs); // at most one per stage: two pieces of 4 rows
        Assert.Same(mine, result["y"]);
        Assert.Equal(Expected, mine.ToArray<float>());
    }

    [Fact]
    public async Task ABatchIsSplitBetweenReplicasByWeightAndJoinedInOrder()
    {
        var (a, b) = (new FakeStage("a"), new FakeStage("b"));
        await using var deployment = Of(new Placement([a], ["y"], weight: 1), new Placement([b], ["y"], weight: 3));
        var result = await deployment.RunAsync(Inputs);
        Assert.Equal([2], a.Rows);
        Assert.Equal([6], b.Rows);
        Assert.Equal(Expected, result["y"].ToArray<float>());
    }

    [Fact]
    public async Task ABatchWhileAnotherIsInFlightGoesWholeToTheLeastBusyReplica()
    {
        var (a, b) = (new FakeStage("a") { TimePerRun = TimeSpan.FromMilliseconds(100) }, new FakeStage("b") { TimePerRun = TimeSpan.FromMilliseconds(100) });
        var (pa, pb) = (new Placement([a], ["y"]), new Placement([b], ["y"]));
        await using var deployment = Of(pa, pb);
        var hold = Hold([a, b]); // every batch stays in flight until the third is placed
        var first = deployment.RunAsync(Inputs); // split: nothing else in flight
        var second = deployment.RunAsync(Inputs); // the first in flight: whole, to a (as busy as b)
        var third = deployment.RunAsync(Inputs); // whole, to b: a has two requests in flight, b one
        await WaitUntilAsync(() => pa.Busy + pb.Busy == 4);
        hold.SetResult();
        foreach (var run in new[] { first, second, third })
        {
            Assert.Equal(Expected, (await run)["y"].ToArray<float>());
        }

        Assert.Equal([4, 8], a.Rows.Order()); // held, the runs start in no set order
        Assert.Equal([4, 8], b.Rows.Order());
        Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>()); // alone again: split
        Assert.Equal(3, a.Rows.Count);
        Assert.Equal(3, b.Rows.Count);
    }

    [Fact]
    public async Task PiecesThatComeBackFreshAreJoinedByCopyAndDeliveredIntoTheCallersTensor()
    {
        var (a, b) = (new FakeStage("a") { IgnoresPlacement = true }, new FakeStage("b") { IgnoresPlacement = true });
        await using var deployment = Of(new Placement([a], ["y"]), new Placement([b], ["y"]));
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        var result = await deployment.RunAsync(Inputs, into: new Dictionary<string, Tensor> { ["y"] = mine });
        Assert.Same(mine, result["y"]);
        Assert.Equal(Expected, mine.ToArray<float>());
    }

    [Fact]
    public async Task AShareWhosePlacementFailsRunsOnTheOtherAndADownPlacementGetsNoShare()
    {
        var (a, b) = (new FakeStage("a") { FailsRuns = true }, new FakeStage("b"));
        await using var deployment = Of(new Placement([a], ["y"]), new Placement([b], ["y"]));
        Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>());
        Assert.Equal(1, a.Runs);
        Assert.Equal([4, 4], b.Rows.Order()); // its own share, then a's

        a.Down = true;
        b.Rows.Clear();
        Assert.Equal(Expected, (await deployment.RunAsync(Inputs))["y"].ToArray<float>());
        Assert.Equal(1, a.Runs);
        Assert.Equal([8], b.Rows);
    }

    [Fact]
    public async Task WithNoPlacementLeftTheRequestFailsWithEveryReason()
    {
        var (a, b) = (new FakeStage("a") { FailsRuns = true }, new FakeStage("b") { FailsRuns = true });
        await using var deployment = Of(new Placement([a], ["y"]), new Placement([b], ["y"]));
        var e = await Assert.ThrowsAsync<ClusterException>(() => deployment.RunOnAsync(deployment.Placements[0], Inputs));
        Assert.Equal(ClusterErrorCode.WorkerDown, e.Code);
        Assert.Contains("worker a is down", e.Message);
        Assert.Contains("worker b is down", e.Message);
    }

    [Fact]
    public async Task ARequestWithNoPlacementUpWaitsForOneToComeBack()
    {
        var a = new FakeStage("a") { Down = true };
        await using var deployment = new Deployment("test", Doubling, new PlacementSet([new Placement([a], ["y"])]), new DeploymentOptions { PlacementWait = TimeSpan.FromSeconds(20) });
        var run = deployment.RunAsync(Inputs);
        await Task.Delay(200);
        Assert.False(run.IsCompleted);
        a.Down = false;
        deployment.NotifyChanged();
        Assert.Equal(Expected, (await run.WaitAsync(TimeSpan.FromSeconds(10)))["y"].ToArray<float>());
    }

    [Fact]
    public async Task AMeasuredSlowerReplicaGetsFewerRows()
    {
        var (a, b) = (new FakeStage("a"), new FakeStage("b"));
        var slow = new Placement([a], ["y"]);
        var fast = new Placement([b], ["y"]);
        await using var deployment = Of(slow, fast);
        slow.Record(rows: 10, seconds: 0.3);
        fast.Record(rows: 10, seconds: 0.1);
        await deployment.RunAsync(Inputs);
        Assert.Equal([2], a.Rows);
        Assert.Equal([6], b.Rows);
    }

    [Fact]
    public async Task AReplicaIsMeasuredByTheTimeItWasBusyNotByHowLongItsQueuedRunsWaited()
    {
        // Four batches at once on a replica that computes one at a time: the last waits for three others, which says
        // nothing about its speed (charged its whole wait, the replica looked twice as slow as it is).
        var a = new FakeStage("a") { TimePerRun = TimeSpan.FromMilliseconds(100) };
        var placement = new Placement([a], ["y"]);
        await using var deployment = Of(placement);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => deployment.RunAsync(Inputs)));
        double slowest = a.ServiceTimes.Max().TotalSeconds;
        Assert.InRange(placement.SecondsPerRow * 8, 0.9 * TimeSpan.FromMilliseconds(100).TotalSeconds, 1.4 * slowest);
    }

    [Fact]
    public void PiecesPlacedIntoTheirRowsJoinWithoutACopyAndTensorsThatDoNotFitAreNotPlaced()
    {
        var pieces = BatchPieces.Cut(5, [null, null], [3.0, 2.0], new DeploymentOptions(), ["y", "z", "w"], placed: true, into: null, out int[] shareOf);
        Assert.Equal([0, 1], shareOf);
        var first = pieces.For(0)!("y", DataType.Float32, [3, 4])!;
        var second = pieces.For(1)!("y", DataType.Float32, [2, 4])!;
        first.Span<float>().Fill(1);
        second.Span<float>().Fill(2);
        var whole = pieces.Join(0, [first, second], 0);
        Assert.Equal([5, 4], whole.Shape);
        Assert.Equal(Enumerable.Repeat(1f, 12).Concat(Enumerable.Repeat(2f, 8)), whole.ToArray<float>());
        Assert.Same(whole.StorageOwner, first.StorageOwner);

        Assert.Null(pieces.For(0)!("scalar", DataType.Float32, []));
        Assert.Null(pieces.For(1)!("z", DataType.Float32, [3, 4])); // piece 1 has 2 rows
        Assert.NotNull(pieces.For(0)!("z", DataType.Float32, [3, 4]));
        Assert.Null(pieces.For(1)!("z", DataType.Float32, [2, 5])); // another inner shape than piece 0's
        Assert.Null(pieces.For(1)!("z", DataType.Int64, [2, 4]));

        var placed = pieces.For(0)!("w", DataType.Int32, [3])!;
        placed.Span<int>().Fill(7);
        var joined = pieces.Join(2, [placed, Tensor.FromArray(new[] { 8, 9 }, 2)], 0);
        Assert.Equal([7, 7, 7, 8, 9], joined.ToArray<int>());
        Assert.NotSame(joined.StorageOwner, placed.StorageOwner);
    }
}
