using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tests.Partitioning.TensorParallel;

namespace Tessera.Tests.Partitioning;

/// <summary>
/// Hybrid plans: pipeline stages of tensor degree T, cut from the T shards' optimised graphs at the same steps.
/// The pipeline part is bit-identical to the whole-model tensor-parallel run (a <see cref="TensorParallelGroup"/>
/// over <see cref="TensorParallelRewriter"/>'s shards), which agrees with the single node by the rewrite's rule.
/// </summary>
public sealed class HybridPlanTests
{
    /// <remarks>PP-OCRv4 rec: its convolutions are replicated and its attention split, so a stage may hold no collective.</remarks>
    [Theory]
    [InlineData("bert", true)]
    [InlineData("gpt", true)]
    [InlineData("dense", true)]
    [InlineData("ppocr_rec", false)]
    public void TwoStagesOfDegreeTwoMatchTheWholeModelShardsAndAgreeWithSingleNode(string model, bool everyStageSplits)
    {
        var c = ConformanceSet.Get(model);
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = Clusters.WithSpeeds(1, 1, 1, 1), Strategy = PlanStrategy.Hybrid, Stages = 2, Degree = 2, Replicas = 1, Objective = PlanObjective.Throughput };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal((1, 2, 2, "hybrid"), (result.Chosen.Replicas, result.Chosen.Stages, result.Chosen.Degree, result.Chosen.Strategy));
        Assert.NotNull(result.Chosen.Sharded);

        using var folder = new TempFolder();
        var plan = PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        Assert.Equal("hybrid", plan.Strategy);
        Assert.All(plan.Stages, s => Assert.Equal([$"stage{s.Index}.rank0.onnx", $"stage{s.Index}.rank1.onnx"], s.TensorParallel.Shards.Select(x => x.Model)));
        Assert.All(plan.Stages, s => Assert.Equal(2, s.Replicas.Single().Nodes.Count));
        CheckShardsHoldTheirOwnConstants(result.Chosen.Sharded!, plan, folder.Path, everyStageSplits);

        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        var actual = runner.Run(c.Inputs);
        using var group = new TensorParallelGroup(TensorParallelRewriter.Rewrite(c.Model, 2).Shards, new SessionOptions());
        ConformanceSet.AssertBitIdentical(group.Run(c.Inputs), actual, $"{model}, 1x2x2 against the whole-model shards");
        ParallelAgreement.AssertAgrees(c.Expected, actual, $"{model}, 1x2x2");
        if (model == "bert") OnnxChecker.AssertValid(plan.Stages.SelectMany(s => s.TensorParallel.Shards).Select(s => folder.File(s.Model)));
    }

    /// <summary>
    /// Layers big, tiny, tiny, big (1002→510→6→510→1002, 4.1 MB): no stage of a pipeline can hold less than a big
    /// layer (half the model), T = 4 divides no layer (all replicated), T = 3 leaves a third (1.4 MB) per node,
    /// but two stages of one block each at T = 2 need a quarter: only the hybrid fits 1.2 MB nodes.
    /// </summary>
    [Fact]
    public void NodesTooSmallForAHalfModelGetAHybridPlanThatAgreesWithSingleNode()
    {
        var model = LayerChain.Widths("batch", 1002, 510, 6, 510, 1002);
        var shapes = new Dictionary<string, int[]> { ["x"] = [4, 1002] };
        var cluster = Clusters.Of((1, 1_200_000), (1, 1_200_000), (1, 1_200_000), (1, 1_200_000));
        var result = Planner.Plan(new PlanRequest { Model = model, InputShapes = shapes, Cluster = cluster });
        Assert.Equal(("hybrid", "1x2x2"), (result.Chosen.Strategy, result.Chosen.Shape));
        Assert.All(result.Candidates.Where(c => c != result.Chosen), c => Assert.False(c.Feasible, $"{c.Shape} is feasible"));
        Assert.StartsWith("the model needs 4.", result.Candidates.Single(c => c.Shape == "1x1x4").Reason);
        Assert.Matches(@"^stage \d needs 2\.\d MB", result.Candidates.Single(c => c.Shape == "1x4x1").Reason);
        Assert.All(result.Chosen.StageEstimates, s => Assert.InRange(s.PeakMemoryBytes, 1_000_000, 1_200_000));

        using var folder = new TempFolder();
        string path = folder.File("chain.onnx");
        ModelWriter.Save(model, path);
        var plan = PlanMaterializer.Write(result, path, folder.File("plan"));
        string report = PlanReport.Format(result, plan);
        Assert.Contains("  1x2x2   hybrid        4", report);
        Assert.Matches(@"1x2x2   hybrid +4 +[\d.]+ +[\d.]+ +1\.\d MB  chosen", report);
        Assert.Contains("files: stage0.rank0.onnx, stage0.rank1.onnx, stage1.rank0.onnx, stage1.rank1.onnx, plan.json", report);
        Assert.Equal(["a", "b"], plan.Stages[0].Replicas[0].Nodes);

        var x = Tessera.Tensors.Tensor.FromArray(Enumerable.Range(0, 4 * 1002).Select(i => 2 * MathF.Sin(i * 0.37f)).ToArray(), 4, 1002);
        var inputs = new Dictionary<string, Tessera.Tensors.Tensor> { ["x"] = x };
        using var runner = InProcessPlan.Load(folder.File("plan/plan.json"));
        ParallelAgreement.AssertAgrees(new InferenceSession(model).Run(inputs), runner.Run(inputs), "chain, 1x2x2");
    }

    /// <summary>D x P x T = 2 x 2 x 2 on eight nodes: each replica's slice of the batch runs through both stages' rank groups.</summary>
    [Fact]
    public void TwoReplicasOfTwoStagesOfDegreeTwoMatchTheShardsPerSlice()
    {
        var c = ConformanceSet.Get("dense");
        var request = new PlanRequest { Model = c.Model, InputShapes = c.InputShapes, Cluster = Clusters.WithSpeeds(1, 1, 1, 1, 2, 2, 2, 2), Strategy = PlanStrategy.Hybrid, Stages = 2, Degree = 2, Replicas = 2 };
        var result = Planner.Plan(request, c.Cost);
        Assert.Equal("2x2x2", result.Chosen.Shape);

        using var folder = new TempFolder();
        var plan = PlanMaterializer.Write(result, c.ModelPath, folder.Path);
        Assert.Equal(2, plan.DataParallel!.Replicas);
        Assert.All(plan.Stages, s => Assert.Equal([2, 2], s.Replicas.Select(r => r.Nodes.Count)));
        using var runner = InProcessPlan.Load(folder.File("plan.json"));
        var actual = runner.Run(c.Inputs);

        using var group = new TensorParallelGroup(TensorParallelRewriter.Rewrite(c.Model, 2).Shards, new SessionOptions());
        var counts = Tessera.Partitioning.Data.BatchSplit.Counts(c.Batch, plan.Stages[0].Replicas.Select(r => r.BatchWeight).ToList());
        Assert.All(counts, n => Assert.True(n > 0));
        var parts = new List<IReadOnlyDictionary<string, Tessera.Tensors.Tensor>>();
        int start = 0;
        foreach (int count in counts)
        {
            parts.Add(group.Run(c.Inputs.ToDictionary(kv => kv.Key, kv => Tessera.Partitioning.Data.BatchSplit.Slice(kv.Value, 0, start, count))));
            start += count;
        }

        var expected = c.Expected.Keys.ToDictionary(k => k, k => Tessera.Partitioning.Data.BatchSplit.Concat(parts.Select(p => p[k]).ToList(), 0));
        ConformanceSet.AssertBitIdentical(expected, actual, "dense, 2x2x2");
        ParallelAgreement.AssertAgrees(c.Expected, actual, "dense, 2x2x2");
    }

    [Fact]
    public void CutsPassOnlyValuesEveryRankHolds()
    {
        // Six MatMul+Tanh layers pair into three column/row blocks; each rank runs per block a FusedMatMul (its
        // columns and Tanh), a MatMul (its rows, a partial sum), the AllReduce, then the row layer's Tanh. Only
        // after the AllReduce or that Tanh does every rank hold the same values.
        var sharded = ShardedCost.Analyze(LayerChain.Build(6, 64, "batch"), 2, new Dictionary<string, int[]> { ["x"] = [4, 64] });
        var steps = sharded.Ranks[0].Nodes;
        Assert.Equal(["FusedMatMul", "MatMul", "AllReduce", "Tanh"], steps.Take(4).Select(s => s.OpType));
        Assert.Equal(3, sharded.CollectiveSteps);
        Assert.Equal(5, sharded.ReplicatedCutCount);
        for (int k = 1; k < steps.Count; k++)
        {
            Assert.Equal(steps[k - 1].OpType is "AllReduce" or "Tanh", sharded.IsReplicatedCut(k));
        }
    }

    // Every rank's stage k runs the same collectives, and each file holds only that rank's constants.
    private static void CheckShardsHoldTheirOwnConstants(ShardedCost sharded, PlanDocument plan, string folder, bool everyStageSplits)
    {
        foreach (var stage in plan.Stages)
        {
            var files = stage.TensorParallel.Shards.Select(s => ModelReader.Load(Path.Combine(folder, s.Model))).ToList();
            var keys = files.Select(f => string.Join(",", f.Graph.Nodes.Where(n => n.Domain == "com.tessera" && n.OpType is "AllReduce" or "AllGather").Select(n => n.Attributes["key"].String))).ToList();
            Assert.True(keys[0].Length > 0 || !everyStageSplits, $"stage {stage.Index} has no collective: the cut is not inside the split layers");
            Assert.All(keys, k => Assert.Equal(keys[0], k));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(folder, stage.TensorParallel.Shards[0].Model)), File.ReadAllBytes(Path.Combine(folder, stage.TensorParallel.Shards[1].Model)));
            for (int rank = 0; rank < files.Count; rank++)
            {
                var whole = sharded.Ranks[rank].OptimizedModel.Graph.Initializers;
                foreach (var (name, tensor) in files[rank].Graph.Initializers)
                {
                    Assert.True(whole.TryGetValue(name, out var own) && own.Bytes.SequenceEqual(tensor.Bytes), $"stage {stage.Index} rank {rank}: '{name}' is not that rank's constant");
                }

                Assert.Equal(stage.Inputs, files[rank].Graph.Inputs.Select(i => i.Name));
                Assert.Equal(stage.Outputs, files[rank].Graph.Outputs.Select(o => o.Name));
            }
        }
    }
}
