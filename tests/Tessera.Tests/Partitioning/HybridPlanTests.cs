using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Execution;
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
    [Theory]
    [InlineData("bert")]
    [InlineData("gpt")]
    [InlineData("dense")]
    public void TwoStagesOfDegreeTwoMatchTheWholeModelShardsAndAgreeWithSingleNode(string model)
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
        CheckShardsHoldTheirOwnConstants(result.Chosen.Sharded!, plan, folder.Path);

        using var runner = LocalPlanRunner.Load(folder.File("plan.json"));
        var actual = runner.Run(c.Inputs);
        using var group = new TensorParallelGroup(TensorParallelRewriter.Rewrite(c.Model, 2).Shards, new SessionOptions());
        ConformanceSet.AssertBitIdentical(group.Run(c.Inputs), actual, $"{model}, 1x2x2 against the whole-model shards");
        ParallelAgreement.AssertAgrees(c.Expected, actual, $"{model}, 1x2x2");
        if (model == "bert") OnnxChecker.AssertValid(plan.Stages.SelectMany(s => s.TensorParallel.Shards).Select(s => folder.File(s.Model)));
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
    private static void CheckShardsHoldTheirOwnConstants(ShardedCost sharded, PlanDocument plan, string folder)
    {
        foreach (var stage in plan.Stages)
        {
            var files = stage.TensorParallel.Shards.Select(s => ModelReader.Load(Path.Combine(folder, s.Model))).ToList();
            var keys = files.Select(f => string.Join(",", f.Graph.Nodes.Where(n => n.Domain == "com.tessera" && n.OpType is "AllReduce" or "AllGather").Select(n => n.Attributes["key"].String))).ToList();
            Assert.True(keys[0].Length > 0, $"stage {stage.Index} has no collective: the cut is not inside the split layers");
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
