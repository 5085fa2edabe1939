using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Pipeline;

namespace Tessera.Tests.Partitioning;

/// <summary>A pipeline's micro-batch sizes from measured cost curves: the bubble against each size's cost per row and the shared cores.</summary>
public sealed class MicroBatchScheduleTests
{
    /// <summary>A run costs <paramref name="fixedMs"/> plus <paramref name="perRowMs"/> per row, measured at 1 and 8 rows.</summary>
    private static BatchCostCurve Affine(double fixedMs, double perRowMs) =>
        new([new BatchCost(1, 5, (fixedMs + perRowMs) / 1e3), new BatchCost(8, 5, (fixedMs + (8 * perRowMs)) / 1e3)]);

    [Fact]
    public void TheCurveInterpolatesBetweenMeasuredSizesAndScalesTheCostPerRowOutsideThem()
    {
        var curve = new BatchCostCurve([new BatchCost(4, 3, 0.004), new BatchCost(2, 3, 0.003), new BatchCost(0, 1, 1), new BatchCost(8, 0, 1)]);
        Assert.Equal([2, 4], curve.Points.Select(p => p.Rows)); // no rows, no runs: not measurements
        Assert.Equal(0.003, curve.SecondsFor(2), 12);
        Assert.Equal(0.0035, curve.SecondsFor(3), 12);
        Assert.Equal(0.0015, curve.SecondsFor(1), 12); // 2 rows' cost per row
        Assert.Equal(0.008, curve.SecondsFor(8), 12); // 4 rows' cost per row
        Assert.Equal(3, curve.RunsAt(4));
        Assert.Equal(0, curve.RunsAt(3));
    }

    [Fact]
    public void PiecesAreEvenLargestFirst()
    {
        Assert.Equal([3, 3, 2], MicroBatchSchedule.Even(8, 3));
        Assert.Equal([2, 2, 2, 2], MicroBatchSchedule.Even(8, 4));
    }

    [Fact]
    public void FinishCountsTheBubbleAndTheSharedCores()
    {
        var stage = Affine(0, 1); // 1 ms per row, nothing fixed
        var three = new[] { stage, stage, stage };
        // 4 pieces of 2 rows through 3 stages of 2 ms each: (4 + 3 - 1) x 2 ms.
        Assert.Equal(0.012, MicroBatchSchedule.Finish([2, 2, 2, 2], three, 3, 0), 9);
        // On one core the stages cannot overlap: all 24 ms of work one after another.
        Assert.Equal(0.024, MicroBatchSchedule.Finish([2, 2, 2, 2], three, 1, 0), 9);
    }

    [Fact]
    public void CheapSmallBatchesAreCutFinelyToShrinkTheBubble()
    {
        var stage = Affine(0, 1);
        Assert.Equal(Enumerable.Repeat(1, 8), MicroBatchSchedule.Choose(8, [stage, stage, stage], 3, 0, 12));
    }

    [Fact]
    public void AFixedCostPerRunKeepsPiecesLarge()
    {
        // 10 ms per run whatever its size plus 0.1 ms per row: each extra piece costs more than the bubble it saves.
        var stage = Affine(10, 0.1);
        Assert.Equal([8], MicroBatchSchedule.Choose(8, [stage, stage, stage], 3, 0, 12));
    }

    [Fact]
    public void StagesSharingOneCoreAreNotCutWhenSmallPiecesCostMorePerRow()
    {
        // Small pieces cost 20 % more per row; with all stages on one core there is no overlap to win.
        var stage = new BatchCostCurve([new BatchCost(1, 5, 1.2e-3), new BatchCost(8, 5, 8e-3)]);
        Assert.Equal([8], MicroBatchSchedule.Choose(8, [stage, stage, stage], 1, 0, 12));
        // With a core each, the bubble wins: the batch is cut.
        Assert.True(MicroBatchSchedule.Choose(8, [stage, stage, stage], 3, 0, 12).Length > 1);
    }

    [Fact]
    public void TheOverheadPerPieceAndTheLimitBoundTheCount()
    {
        var stage = Affine(0, 1);
        Assert.Equal([2, 2, 2, 2], MicroBatchSchedule.Choose(8, [stage, stage, stage], 3, 0, 4));
        // 1 ms per piece and stage against 1 ms per row: fewer, larger pieces.
        int[] sizes = MicroBatchSchedule.Choose(8, [stage, stage, stage], 3, 1e-3, 12);
        Assert.InRange(sizes.Length, 2, 4);
        Assert.Equal(8, sizes.Sum());
    }

    [Fact]
    public void BatchesInFlightFillTheBubbleDownToTheBusiestStage()
    {
        var stage = Affine(0, 1);
        var three = new[] { stage, stage, stage };
        // One batch of 8 alone holds 3 stages of 8 ms for 24 ms; two in flight overlap their trips, 12 ms each; from
        // three on, the busiest stage's 8 ms bounds it.
        Assert.Equal(0.024, MicroBatchSchedule.Finish([8], three, 3, 0, inFlight: 1), 9);
        Assert.Equal(0.012, MicroBatchSchedule.Finish([8], three, 3, 0, inFlight: 2), 9);
        Assert.Equal(0.008, MicroBatchSchedule.Finish([8], three, 3, 0, inFlight: 3), 9);
        Assert.Equal(0.008, MicroBatchSchedule.Finish([8], three, 3, 0, inFlight: 6), 9);
        // Sharing 2 cores, the 24 ms of work over 2 bounds it whatever is in flight.
        Assert.Equal(0.012, MicroBatchSchedule.Finish([8], three, 2, 0, inFlight: 6), 9);
    }

    [Fact]
    public void APipelineKeptFullIsNotCutWhenSmallPiecesCostMorePerRow()
    {
        // 3 stages on 2 cores (the bench's 3-stage pipeline), small pieces 20 % dearer per row.
        var stage = new BatchCostCurve([new BatchCost(1, 5, 1.2e-3), new BatchCost(8, 5, 8e-3)]);
        var three = new[] { stage, stage, stage };
        // Alone, a batch whole leaves two stages idle most of its trip: it is cut.
        Assert.True(MicroBatchSchedule.Choose(8, three, 2, 0, 12, inFlight: 1).Length > 1);
        // With three batches in flight, other batches fill that bubble; pieces would only add work on shared cores.
        Assert.Equal([8], MicroBatchSchedule.Choose(8, three, 2, 0, 12, inFlight: 3));
    }

    [Fact]
    public void AFullPipelineSendsBatchesWholeHoweverCheapItsPiecesLook()
    {
        // 3 stages on 2 cores: whole batches take 24 ms of work over 2 cores, 12 ms each. 1-row pieces measured 20 % or
        // 50 % cheaper per row (as a curve timed under contention can show them) would take 9.6 or 6 ms.
        var three = (double oneRowMs) => Enumerable.Repeat(new BatchCostCurve([new BatchCost(1, 5, oneRowMs / 1e3), new BatchCost(8, 5, 8e-3)]), 3).ToArray();
        // With three or more batches in flight every stage has one: no bubble to fill, the batch goes whole.
        foreach (int inFlight in new[] { 3, 4, 8 })
        {
            Assert.Equal([8], MicroBatchSchedule.Choose(8, three(0.8), 2, 0, 12, inFlight));
            Assert.Equal([8], MicroBatchSchedule.Choose(8, three(0.5), 2, 0, 12, inFlight));
        }

        // With two, a stage waits: the curves decide, and pieces clearly cheaper are cut; within the noise they are not.
        Assert.True(MicroBatchSchedule.Choose(8, three(0.8), 2, 0, 12, inFlight: 2).Length > 1);
        Assert.Equal([8], MicroBatchSchedule.Choose(8, three(0.95), 2, 0, 12, inFlight: 2));
        Assert.True(MicroBatchSchedule.IsFull(3, 3));
        Assert.False(MicroBatchSchedule.IsFull(2, 3));
    }
}
