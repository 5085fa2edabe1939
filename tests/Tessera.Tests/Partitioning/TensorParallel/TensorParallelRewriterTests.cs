using Tessera.Onnx.Graph;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;

namespace Tessera.Tests.Partitioning.TensorParallel;

/// <summary>The split patterns on small graphs: structure of the shards, and agreement with the whole model.</summary>
public sealed class TensorParallelRewriterTests
{
    private static void AssertAgreesWithWhole(OnnxModel model, TensorParallelModel split, params int[] shape)
    {
        var inputs = new Dictionary<string, Tensor> { ["x"] = SmallModels.Random(99, shape) };
        var whole = TensorParallelCases.RunWhole(model, inputs);
        var ranks = TensorParallelCases.RunSharded(split, inputs);
        foreach (var rank in ranks)
        {
            ParallelAgreement.AssertAgrees(whole, rank, $"degree {split.Degree}");
        }
    }

    private static int Count(OnnxModel shard, string opType) => shard.Graph.Nodes.Count(n => n.OpType == opType);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ALayerWhoseOutputLeavesTheModelIsSplitByColumnsAndGathered(int degree)
    {
        var model = SmallModels.Linear(4, 6, bias: true);
        var split = TensorParallelRewriter.Rewrite(model, degree);

        var layer = Assert.Single(split.Splits);
        Assert.Equal(new TensorParallelSplit("linear", TensorParallelSplitKind.Column, 1, 4, 6, 4, 6 / degree), layer);
        Assert.Equal(TensorParallelBlockKind.Column, Assert.Single(split.Blocks).Kind);
        Assert.Equal((0, 1), (split.AllReducesPerRun, split.AllGathersPerRun));
        foreach (var shard in split.Shards)
        {
            Assert.Equal([4, 6 / degree], shard.Graph.Initializers.Values.Single(t => t.Rank == 2).Shape);
            Assert.Equal([6 / degree], shard.Graph.Initializers.Values.Single(t => t.Rank == 1).Shape);
        }

        AssertAgreesWithWhole(model, split, 5, 4);
    }

    [Fact]
    public void ALayerWithIndivisibleColumnsIsSplitByRowsWithASliceOfItsInput()
    {
        var model = SmallModels.Linear(8, 3, bias: true);
        var split = TensorParallelRewriter.Rewrite(model, 2);

        Assert.Equal(new TensorParallelSplit("linear", TensorParallelSplitKind.Row, 1, 8, 3, 4, 3), Assert.Single(split.Splits));
        Assert.Equal((1, 0), (split.AllReducesPerRun, split.AllGathersPerRun));
        foreach (var shard in split.Shards)
        {
            Assert.Equal(1, Count(shard, "Slice"));
            Assert.Equal([4, 3], shard.Graph.Initializers["W.tp0"].Shape);
            Assert.Equal([3], shard.Graph.Initializers["b"].Shape); // the bias stays whole, added once after the sum
        }

        AssertAgreesWithWhole(model, split, 3, 8);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AnMlpIsSplitColumnsThenRowsWithOneAllReduceAndNothingBetween(int degree)
    {
        var model = SmallModels.Mlp(8, 32);
        var split = TensorParallelRewriter.Rewrite(model, degree);

        var block = Assert.Single(split.Blocks);
        Assert.Equal(TensorParallelBlockKind.Mlp, block.Kind);
        Assert.Equal(["fc1"], block.ColumnNodes);
        Assert.Equal(["fc2"], block.RowNodes);
        Assert.Equal((1, 0), (split.AllReducesPerRun, split.AllGathersPerRun));
        foreach (var shard in split.Shards)
        {
            Assert.Equal(0, Count(shard, "Slice"));
            Assert.Equal([8, 32 / degree], shard.Graph.Initializers["W1.tp0"].Shape);
            Assert.Equal([32 / degree], shard.Graph.Initializers["b1.tp1"].Shape);
            Assert.Equal([32 / degree, 8], shard.Graph.Initializers["W2.tp7"].Shape);

            // The AllReduce sits between fc2's MatMul and its bias: the bias is added once, to the sum.
            var reduce = shard.Graph.Nodes.Single(n => n.OpType == "AllReduce");
            Assert.Equal("fc2", shard.Graph.Nodes.Single(n => n.Outputs.Contains(reduce.Inputs[0])).Name);
            Assert.Equal("fc2_bias", shard.Graph.Nodes.Single(n => n.Inputs.Contains(reduce.Outputs[0])).Name);
        }

        AssertAgreesWithWhole(model, split, 2, 5, 8);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AttentionIsSplitByHeadsWithOneAllReduce(int degree)
    {
        var model = SmallModels.Attention(heads: 4, headSize: 3);
        var split = TensorParallelRewriter.Rewrite(model, degree);

        var block = Assert.Single(split.Blocks);
        Assert.Equal(TensorParallelBlockKind.Attention, block.Kind);
        Assert.Equal(4, block.Heads);
        Assert.Equal(["q_proj", "k_proj", "v_proj"], block.ColumnNodes);
        Assert.Equal(["out_proj"], block.RowNodes);
        Assert.All(split.Splits.Take(3), s => Assert.Equal(TensorParallelSplitKind.Heads, s.Kind));
        Assert.Equal((1, 0), (split.AllReducesPerRun, split.AllGathersPerRun));
        foreach (var shard in split.Shards)
        {
            var reshapes = shard.Graph.Nodes.Where(n => n.OpType == "Reshape").Select(n => shard.Graph.Initializers[n.Inputs[1]].ToArray<long>()).ToList();
            Assert.Equal(3, reshapes.Count(s => s.SequenceEqual([0, 0, 4 / degree, 3])));
            Assert.Single(reshapes, s => s.SequenceEqual([0, 0, -1]));
        }

        Assert.Contains($"attention (4 heads, {4 / degree} per rank): 1 AllReduce", split.Describe());
        AssertAgreesWithWhole(model, split, 3, 7, 12);
    }

    [Fact]
    public void HeadsNotDivisibleByTheDegreeFallBackToGatheredColumnsAndSaySo()
    {
        var model = SmallModels.Attention(heads: 3, headSize: 2);
        var split = TensorParallelRewriter.Rewrite(model, 2);

        Assert.DoesNotContain(split.Blocks, b => b.Kind == TensorParallelBlockKind.Attention);
        Assert.Contains("3 heads are not divisible by 2", split.Describe());
        Assert.Equal(split.Splits.Count, split.AllGathersPerRun + split.AllReducesPerRun);
        AssertAgreesWithWhole(model, split, 2, 5, 6);
    }

    [Fact]
    public void IndivisibleDimensionsStayReplicatedWithTheReason()
    {
        var model = SmallModels.Chain(6, 5, 3);
        var split = TensorParallelRewriter.Rewrite(model, 2);

        // first: N=5 cannot be split by columns, K=6 can by rows; second: neither K=5 nor N=3 divides.
        Assert.Equal(new TensorParallelSplit("first", TensorParallelSplitKind.Row, 1, 6, 5, 3, 5), Assert.Single(split.Splits));
        var replicated = Assert.Single(split.Replicated);
        Assert.Equal("second", replicated.NodeName);
        Assert.StartsWith("neither K=5 nor N=3 is divisible by 2", replicated.Reason);
        Assert.Contains("replicated second: neither K=5 nor N=3 is divisible by 2", split.Describe());
        Assert.All(split.Shards, s => Assert.Equal([5, 3], s.Graph.Initializers["W2"].Shape));
        AssertAgreesWithWhole(model, split, 4, 6);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void GemmsWithTransposedWeightsAlphaAndBetaPairUp(int degree)
    {
        var model = SmallModels.Gemms(6, 8, 4);
        var split = TensorParallelRewriter.Rewrite(model, degree);

        var block = Assert.Single(split.Blocks);
        Assert.Equal((TensorParallelBlockKind.Mlp, 1), (block.Kind, block.AllReduces));
        Assert.Equal(new TensorParallelSplit("gemm1", TensorParallelSplitKind.Column, 1, 6, 8, 6, 8 / degree), split.Splits[0]);
        Assert.Equal(new TensorParallelSplit("gemm2", TensorParallelSplitKind.Row, 1, 8, 4, 8 / degree, 4), split.Splits[1]);
        Assert.All(split.Shards, s => Assert.Equal([8 / degree, 6], s.Graph.Initializers["W1.tp0"].Shape));
        AssertAgreesWithWhole(model, split, 3, 6);
    }

    [Fact]
    public void TheModelIsLeftUnchangedAndDegreeOneChangesNothing()
    {
        var model = SmallModels.Attention(heads: 2, headSize: 2);
        int nodes = model.Graph.Nodes.Count;
        var initializers = model.Graph.Initializers.ToDictionary(p => p.Key, p => p.Value);
        TensorParallelRewriter.Rewrite(model, 2);
        Assert.Equal(nodes, model.Graph.Nodes.Count);
        Assert.Equal(initializers, model.Graph.Initializers);
        Assert.Empty(model.Graph.ValueInfos);

        var one = TensorParallelRewriter.Rewrite(model, 1);
        Assert.Equal(model.Graph.ParameterBytes, Assert.Single(one.ParameterBytesPerShard));
        Assert.Equal((0, 0), (one.AllReducesPerRun, one.AllGathersPerRun));
        Assert.Equal(4, one.Replicated.Count);
        Assert.Throws<ArgumentException>(() => TensorParallelRewriter.Rewrite(model, 0));
    }

    [Fact]
    public void EachShardHoldsOnlyItsSliceAndTheSlicesMakeTheWeight()
    {
        var model = SmallModels.Mlp(4, 8);
        var split = TensorParallelRewriter.Rewrite(model, 2);
        var w1 = model.Graph.Initializers["W1"].ToArray<float>();
        var parts = split.Shards.Select(s => s.Graph.Initializers["W1.tp0"].ToArray<float>()).ToArray();
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(w1.Skip(k * 8).Take(8), parts[0].Skip(k * 4).Take(4).Concat(parts[1].Skip(k * 4).Take(4)));
        }

        Assert.All(split.Shards, s => Assert.DoesNotContain("W1", s.Graph.Initializers.Keys));
        Assert.All(split.ParameterBytesPerShard, bytes => Assert.True(bytes < model.Graph.ParameterBytes));
    }
}
