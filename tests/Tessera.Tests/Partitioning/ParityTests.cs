using Tessera.Engine;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;
using Tessera.Tests.Partitioning.TensorParallel;

namespace Tessera.Tests.Partitioning;

/// <summary>
/// The rule: on every conformance model, pipeline plans (2, 3, 4 stages on nodes of unequal speed) and data-parallel
/// plans (3 replicas of unequal speed) give outputs bit-identical to the single-node session. Each plan is written
/// to disk and run by <see cref="InProcessPlan"/>, one session per stage, as the cluster runs it.
/// </summary>
public sealed class ParityTests
{
    public static TheoryData<string, int> PipelineRows()
    {
        var rows = new TheoryData<string, int>();
        foreach (string model in ConformanceSet.Names)
        {
            foreach (int stages in new[] { 2, 3, 4 }) rows.Add(model, stages);
        }

        return rows;
    }

    public static TheoryData<string> Models() => new(ConformanceSet.Names);

    [Theory]
    [MemberData(nameof(PipelineRows))]
    public void PipelineMatchesSingleNode(string model, int stages)
    {
        var c = ConformanceSet.Get(model);
        var cluster = Clusters.WithSpeeds(1.0, 2.0, 1.5, 1.25);
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster, Strategy = PlanStrategy.Pipeline, Stages = stages };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal(("pipeline", stages), (result.Chosen.Strategy, result.Chosen.Stages));

        using var folder = new TempFolder();
        PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        ConformanceSet.AssertBitIdentical(c.Expected, runner.Run(c.Inputs), $"{model}, {stages} stages");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void DataParallelMatchesSingleNode(string model)
    {
        var c = ConformanceSet.Get(model);
        var cluster = Clusters.WithSpeeds(1.0, 1.5, 2.0);
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster, Strategy = PlanStrategy.Data, Replicas = 3 };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal(("data", 3), (result.Chosen.Strategy, result.Chosen.Replicas));
        var weights = result.Chosen.ReplicaWeights;
        var counts = BatchSplit.Counts(c.Batch, weights);
        Assert.True(weights.Distinct().Count() == 3 && counts.All(n => n > 0),
            $"every replica gets rows, in proportion to the unequal speeds: weights {string.Join(", ", weights)}, rows {string.Join(", ", counts)}");

        using var folder = new TempFolder();
        PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        ConformanceSet.AssertBitIdentical(c.Expected, runner.Run(c.Inputs), $"{model}, 3 replicas");
    }

    [Fact]
    public void NodesTooSmallForResNetGetAPipelineThatFitsAndMatches()
    {
        var c = ConformanceSet.Get("resnet18");
        var cluster = Clusters.Of((1, 24_000_000), (1.5, 24_000_000), (1, 24_000_000), (1, 24_000_000));
        var result = Planner.Plan(new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster }, c.Cost);
        Assert.True(result.Chosen.Stages >= 3 && result.Chosen.Feasible, $"chose {result.Chosen.Shape}");
        Assert.All(result.Chosen.StageEstimates, s => Assert.True(s.PeakMemoryBytes <= 24_000_000, $"stage needs {s.PeakMemoryBytes}"));
        Assert.StartsWith("the model needs 5", result.Candidates.Single(x => x.NodeCount == 1).Reason);

        using var folder = new TempFolder();
        PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        ConformanceSet.AssertBitIdentical(c.Expected, runner.Run(c.Inputs), $"resnet18, {result.Chosen.Shape}");

        var tiny = Clusters.Of((1, 5_000_000), (1, 5_000_000), (1, 5_000_000));
        var e = Assert.Throws<Tessera.Partitioning.PartitionException>(() => Planner.Plan(new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = tiny }, c.Cost));
        Assert.Matches(@"^no plan fits: 1x3x1 \(pipeline\): stage \d needs [\d.]+ MB, node [abc] has 5\.0 MB; ", e.Message);
        Assert.Matches(@"the whole model needs 5\d\.\d MB, the largest single step \(\w+ '[^']+'\) needs [\d.]+ MB", e.Message);
        Assert.Contains("the largest node (a) has 5.0 MB", e.Message);
    }

    /// <summary>
    /// Tensor-parallel plans (alone, and with data-parallel replicas) run the rewriter's shards: their outputs are
    /// bit-identical to a <see cref="TensorParallelGroup"/> over <see cref="TensorParallelRewriter"/>'s shards of the
    /// whole model (per replica slice, joined). How close those are to the single node is the rewriter's rule (1e-5
    /// relative, its own tests); dense is checked against the single node here as well.
    /// </summary>
    [Theory]
    [InlineData("bert", 1, 2)]
    [InlineData("gpt", 1, 4)]
    [InlineData("gpt", 2, 2)]
    [InlineData("dense", 1, 2)]
    public void TensorParallelPlanRunsTheRewrittenShards(string model, int replicas, int degree)
    {
        var c = ConformanceSet.Get(model);
        var cluster = Clusters.WithSpeeds(Enumerable.Repeat(1.0, replicas * degree).ToArray());
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = cluster, Strategy = replicas > 1 ? PlanStrategy.Hybrid : PlanStrategy.Tensor, Degree = degree, Replicas = replicas, Stages = 1 };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal((replicas, 1, degree), (result.Chosen.Replicas, result.Chosen.Stages, result.Chosen.Degree));

        using var folder = new TempFolder();
        var plan = PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        Assert.Equal(degree, plan.Stages[0].TensorParallel.Shards.Count);
        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        var actual = runner.Run(c.Inputs);

        using var group = new TensorParallelGroup(TensorParallelRewriter.Rewrite(c.Model, degree).Shards, new SessionOptions());
        var counts = replicas == 1 ? [c.Batch] : BatchSplit.Counts(c.Batch, plan.Stages[0].Replicas.Select(r => r.BatchWeight).ToList());
        var parts = new List<IReadOnlyDictionary<string, Tensor>>();
        int start = 0;
        foreach (int count in counts)
        {
            parts.Add(group.Run(c.Inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, 0, start, count))));
            start += count;
        }

        var expected = c.Expected.Keys.ToDictionary(k => k, k => BatchSplit.Concat(parts.Select(p => p[k]).ToList(), 0));
        ConformanceSet.AssertBitIdentical(expected, actual, $"{model}, {replicas}x1x{degree}");
        if (model == "dense") ParallelAgreement.AssertAgrees(c.Expected, actual, $"{model}, {replicas}x1x{degree}");
    }
}
