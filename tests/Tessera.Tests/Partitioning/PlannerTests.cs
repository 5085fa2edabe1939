using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Planning;

namespace Tessera.Tests.Partitioning;

public sealed class PlannerTests
{
    private static readonly Dictionary<string, int[]> s_batch4 = new() { ["x"] = [4, 256] };

    [Fact]
    public void CostModelCountsFlopsParametersAndCuts()
    {
        var cost = ModelCost.Analyze(LayerChain.Build(3, 256, "batch"), s_batch4);
        // MatMul + Tanh fuse into one FusedMatMul step per layer: plans cut the optimised graph.
        Assert.Equal(3, cost.Nodes.Count);
        var matmul = cost.Nodes[0];
        Assert.Equal("FusedMatMul", matmul.OpType);
        Assert.Equal((OperatorFamily.MatrixProduct, 2.0 * 4 * 256 * 256), (matmul.Family, matmul.Flops));
        Assert.Equal(LayerChain.WeightBytes(256), matmul.ParameterBytes);
        Assert.Equal(LayerChain.WeightBytes(256), matmul.SplittableWeightBytes);
        Assert.Equal(3 * LayerChain.WeightBytes(256), cost.TotalParameterBytes);
        long activation = 4 * 256 * 4;
        Assert.All(Enumerable.Range(0, 4), k => Assert.Equal(activation, cost.CutBytes(k)));
        Assert.Equal(["h0"], cost.CutValues(1));
        Assert.Equal(2 * LayerChain.WeightBytes(256), cost.ParameterBytes(0, 1));
        Assert.Equal(2 * activation, cost.PeakActivationBytes(0, 2));
    }

    [Fact]
    public void FasterNodeGetsMoreLayers()
    {
        var model = LayerChain.Build(12, 256, "batch");
        int StepsOnB(ClusterDescription cluster)
        {
            var result = Planner.Plan(new PlanRequest { Model = model, InputShapes = s_batch4, Cluster = cluster, Strategy = PlanStrategy.Pipeline, Stages = 2, Objective = PlanObjective.Throughput });
            int s = Enumerable.Range(0, 2).Single(i => result.Chosen.Assignment[i][0][0] == "b");
            var stage = result.Chosen.StageEstimates[s];
            return stage.Last - stage.First + 1;
        }

        int equal = StepsOnB(Clusters.WithSpeeds(1, 1));
        int faster = StepsOnB(Clusters.WithSpeeds(1, 3));
        Assert.InRange(equal, 5, 7);
        Assert.True(faster >= 8, $"node b, 3x faster, runs {faster} of 12 layers (equal speeds: {equal})");
    }

    [Fact]
    public void InfeasibleCandidatesSayWhichStageNeedsWhatOnWhichNode()
    {
        var model = LayerChain.Build(12, 256, "batch");
        var cluster = Clusters.Of((1, 1_000_000), (1, 1_000_000), (1, 10_000_000));
        var result = Planner.Plan(new PlanRequest { Model = model, InputShapes = s_batch4, Cluster = cluster, Strategy = PlanStrategy.Pipeline });
        var two = result.Candidates.Single(c => c.Stages == 2);
        var three = result.Candidates.Single(c => c.Stages == 3);
        Assert.True(two.Feasible && three.Feasible);

        var small = Clusters.Of((1, 1_000_000), (1, 1_000_000));
        var e = Assert.Throws<PartitionException>(() => Planner.Plan(new PlanRequest { Model = model, InputShapes = s_batch4, Cluster = small, Strategy = PlanStrategy.Pipeline }));
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(e.Message, @"^no plan fits: 1x2x1 \(pipeline\): stage [01] needs [\d.]+ MB, node [ab] has 1\.0 MB; the whole model needs 3\.\d MB, the largest single step \(FusedMatMul '[^']+'\) needs 0\.\d MB, the largest node \(a\) has 1\.0 MB$"), e.Message);
    }

    [Fact]
    public void NodesTooSmallForTheModelGetAPipelineThatFits()
    {
        var model = LayerChain.Build(12, 256, "batch");
        var cluster = Clusters.Of((1, 1_200_000), (1, 1_200_000), (1, 1_200_000), (1, 1_200_000));
        var result = Planner.Plan(new PlanRequest { Model = model, InputShapes = s_batch4, Cluster = cluster });
        Assert.True(result.Chosen.Stages >= 3, $"chose {result.Chosen.Shape}");
        Assert.All(result.Chosen.StageEstimates, s => Assert.True(s.PeakMemoryBytes <= 1_200_000, $"stage needs {s.PeakMemoryBytes}"));
        var single = result.Candidates.Single(c => c.NodeCount == 1);
        Assert.False(single.Feasible);
        Assert.StartsWith("the model needs 3.", single.Reason);
    }

    [Fact]
    public void ModelWithFixedBatchIsRefusedForDataParallel()
    {
        var model = LayerChain.Build(2, 16, 1);
        var e = Assert.Throws<PartitionException>(() => BatchAxes.Detect(model, new Dictionary<string, int[]> { ["x"] = [1, 16] }));
        Assert.Equal("the model cannot be split by batch: input 'x' has a fixed first dimension (1), not a batch axis", e.Message);
        var plan = Assert.Throws<PartitionException>(() => Planner.Plan(new PlanRequest { Model = model, Cluster = Clusters.WithSpeeds(1, 1), Strategy = PlanStrategy.Data }));
        Assert.Contains("cannot be split by batch", plan.Message);
    }

    [Fact]
    public void BatchAxesFollowTheBatchThroughShapes()
    {
        var c = ConformanceSet.Get("ppocr_rec");
        var axes = BatchAxes.Detect(c.Model, c.InputShapes);
        Assert.Equal(3, axes.Batch);
        Assert.Equal(0, axes.Outputs.Single().Value);
    }

    [Fact]
    public void MissingInputShapeIsAskedFor()
    {
        var e = Assert.Throws<PartitionException>(() => ModelCost.Analyze(LayerChain.Build(2, 16, "batch"), new Dictionary<string, int[]>()));
        Assert.Equal("input 'x' has shape [batch,16], which is not fixed; give it with --input-shape x=D1xD2...", e.Message);
    }

    [Theory]
    [InlineData(10, new[] { 1.0, 1.0, 1.0 }, new[] { 4, 3, 3 })]
    [InlineData(16, new[] { 1.0, 2.0, 3.0 }, new[] { 3, 5, 8 })]
    [InlineData(2, new[] { 1.0, 2.0, 3.5 }, new[] { 0, 1, 1 })]
    [InlineData(0, new[] { 1.0, 2.0 }, new[] { 0, 0 })]
    public void BatchCountsUseLargestRemainders(int batch, double[] weights, int[] expected) =>
        Assert.Equal(expected, BatchSplit.Counts(batch, weights));

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new[] { 1.0, 0.0 })]
    [InlineData(new[] { -1.0, 2.0 })]
    [InlineData(new[] { 1.0, double.NaN })]
    [InlineData(new[] { double.PositiveInfinity, 1.0 })]
    public void BatchCountsRefuseWeightsThatAreNotPositiveFiniteNumbers(double[] weights)
    {
        var e = Assert.Throws<ArgumentException>(() => BatchSplit.Counts(8, weights));
        Assert.StartsWith("replica weights must be positive, finite numbers", e.Message);
    }
}
