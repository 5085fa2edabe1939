using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Pipeline;
using Tessera.Partitioning.Planning;

namespace Tessera.Tests.Partitioning;

/// <summary>
/// The turns margin of <see cref="StageCutter"/> (issue 19, a16): how close to the cores' bound each stage of a
/// pipeline taking turns on one host's cores may come. <c>TESSERA_STAGE_MARGIN</c> sets it for an A/B without
/// rebuilding; a bad value is a one-line error, and the margin given is the one the cut keeps to.
/// </summary>
public sealed class StageMarginTests
{
    [Fact]
    public void UnsetIsTheDefaultAndANumberInRangeIsTaken()
    {
        Assert.Equal(0.9, StageCutter.ParseMargin(null));
        Assert.Equal(0.9, StageCutter.ParseMargin(" "));
        Assert.Equal(0.67, StageCutter.ParseMargin("0.67"));
        Assert.Equal(1.0, StageCutter.ParseMargin("1"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.5")]
    [InlineData("1.01")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0,9")]
    [InlineData("ninety\npercent")]
    public void AnythingButANumberAbove0AndAtMost1IsRefusedInOneLine(string text)
    {
        var e = Assert.Throws<PartitionException>(() => StageCutter.ParseMargin(text));
        Assert.StartsWith($"{StageCutter.MarginVariable} is '", e.Message);
        Assert.Contains("expected a number above 0 and at most 1", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void EveryStageKeepsWithinTheMarginGivenAndBelowAnyFitTheBalancedCutIsTaken()
    {
        // LayerChain.Widths: nine layers of equal work, outputs alternately 1024 and 256 wide (as in
        // HostSharingPlanTests): the narrow cuts need stages of uneven layer counts, the even cut 3/3/3 crosses a wide value.
        var model = LayerChain.Widths("batch", 256, 1024, 256, 1024, 256, 1024, 256, 1024, 256, 1024);
        var cost = ModelCost.Analyze(model, new Dictionary<string, int[]> { ["x"] = [64, 256] });
        var nodes = Enumerable.Range(0, 3).Select(i => new ClusterNode { Name = $"n{i}", MemoryBytes = 1_000_000_000, Host = "h", HostCores = 2 }).ToArray();
        var slots = nodes.Select(n => new Slot([[n]], [1.0])).ToList();
        var link = new ClusterLink();

        (double[] Seconds, long Sent) Cut(double margin)
        {
            var cutter = new StageCutter(cost, CalibrationProfile.Default, margin: margin);
            int[] bounds = cutter.Cut(slots, 1, link, PlanObjective.Throughput)!;
            var seconds = Enumerable.Range(0, 3).Select(s => cutter.StageSeconds(slots[s], s == 0 ? null : slots[s - 1], bounds[s], bounds[s + 1] - 1, 1, link)).ToArray();
            return (seconds, cost.CutBytes(bounds[1]) + cost.CutBytes(bounds[2]));
        }

        var wide = Cut(0.9);
        var tight = Cut(0.8);
        var none = Cut(0.5);
        Assert.Equal(4L * 64 * (256 + 256), wide.Sent);
        foreach (var (cut, margin) in new[] { (wide, 0.9), (tight, 0.8) })
        {
            Assert.All(cut.Seconds, s => Assert.True(s <= margin * cut.Seconds.Sum() / 2, $"a stage of {s} s, over {margin} of the cores' bound {cut.Seconds.Sum() / 2}"));
        }

        // Under 0.8 the wider margin's cut would not fit, so a tighter margin must have taken another, sending more.
        Assert.True(wide.Seconds.Max() > 0.8 * wide.Seconds.Sum() / 2, "0.9's cut also fits 0.8: the test would not tell the margins apart");
        Assert.True(tight.Sent > wide.Sent, $"0.8 sends {tight.Sent} bytes, 0.9 {wide.Sent}");

        // Nothing fits a margin of 0.5 (no stage can be a quarter of the sum): the balanced cut, whose slowest stage
        // is the lowest any cut has.
        var cutter = new StageCutter(cost, CalibrationProfile.Default, margin: 0.5);
        int n = cost.Nodes.Count;
        double lowest = double.PositiveInfinity;
        for (int a = 1; a < n - 1; a++)
        {
            for (int b = a + 1; b < n; b++)
            {
                double slowest = Math.Max(cutter.StageSeconds(slots[0], null, 0, a - 1, 1, link),
                    Math.Max(cutter.StageSeconds(slots[1], slots[0], a, b - 1, 1, link), cutter.StageSeconds(slots[2], slots[1], b, n - 1, 1, link)));
                lowest = Math.Min(lowest, slowest);
            }
        }

        Assert.Equal(lowest, none.Seconds.Max(), 12);
    }
}
