using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;

namespace Tessera.Tests.Partitioning.TensorParallel;

/// <summary>
/// The rule on the conformance models: tensor-parallel runs of bert, gpt and dense (degrees 2 and 4, batch 1
/// and more) agree with the single-node run within 1e-5 relative (<see cref="ParallelAgreement"/>), and every rank
/// ends with bit-identical outputs.
/// </summary>
public sealed class TensorParallelModelTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in new[] { "bert_b1_s16", "bert_b3_s32", "gpt_b1_s16", "gpt_b2_s24", "dense_b1", "dense_b16" })
        {
            data.Add(name, 2);
            data.Add(name, 4);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShardedRunsAgreeWithTheSingleNodeRun(string caseName, int degree)
    {
        var model = TensorParallelCases.LoadModel(caseName);
        var split = TensorParallelRewriter.Rewrite(model, degree);
        Assert.NotEmpty(split.Splits);
        Assert.Empty(split.Replicated);

        var inputs = TensorParallelCases.LoadInputs(caseName, model);
        var whole = TensorParallelCases.RunWhole(model, inputs);
        var ranks = TensorParallelCases.RunSharded(split, inputs);
        ParallelAgreement.AssertAgrees(whole, ranks[0], $"{caseName} at degree {degree}");
        for (int r = 1; r < degree; r++)
        {
            foreach (var (name, tensor) in ranks[0])
            {
                Assert.True(tensor.Bytes.SequenceEqual(ranks[r][name].Bytes), $"rank {r}'s '{name}' differs from rank 0's");
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void BertSplitsEveryEncoderLayersAttentionAndMlpWithOneAllReduceEach(int degree)
    {
        var split = TensorParallelRewriter.Rewrite(TensorParallelCases.LoadModel("bert_b1_s16"), degree);

        var blocks = split.Blocks;
        Assert.Equal(
            [TensorParallelBlockKind.Attention, TensorParallelBlockKind.Mlp, TensorParallelBlockKind.Attention, TensorParallelBlockKind.Mlp, TensorParallelBlockKind.Column],
            blocks.Select(b => b.Kind));
        for (int layer = 0; layer < 2; layer++)
        {
            var attention = blocks[2 * layer];
            Assert.Equal([$"/layers.{layer}/query/MatMul", $"/layers.{layer}/key/MatMul", $"/layers.{layer}/value/MatMul"], attention.ColumnNodes);
            Assert.Equal([$"/layers.{layer}/attn_out/MatMul"], attention.RowNodes);
            Assert.Equal((4, 1, 0), (attention.Heads, attention.AllReduces, attention.AllGathers));
            var mlp = blocks[(2 * layer) + 1];
            Assert.Equal([$"/layers.{layer}/intermediate/MatMul"], mlp.ColumnNodes);
            Assert.Equal([$"/layers.{layer}/output/MatMul"], mlp.RowNodes);
            Assert.Equal((1, 0), (mlp.AllReduces, mlp.AllGathers));
        }

        // The pooler feeds a graph output through Tanh: it is split alone and gathered.
        Assert.Equal(["/pooler/Gemm"], blocks[4].ColumnNodes);
        Assert.Equal((4, 1), (split.AllReducesPerRun, split.AllGathersPerRun));
        Assert.Equal(13, split.Splits.Count);
        Assert.Equal(
            ["/layers.0/attn_out/MatMul_output_0", "/layers.0/output/MatMul_output_0", "/layers.1/attn_out/MatMul_output_0", "/layers.1/output/MatMul_output_0"],
            split.Collectives.Where(c => c.OpType == "AllReduce").Select(c => c.Value));
        Assert.Equal("/pooler/Gemm_output_0", split.Collectives.Single(c => c.OpType == "AllGather").Value);
        var keys = split.Shards[0].Graph.Nodes.Where(n => n.Domain == "com.tessera").Select(n => n.Attributes["key"].String);
        Assert.Equal(split.Collectives.Select(c => c.Key).Order(), keys.Order());

        string text = split.Describe();
        Assert.Equal(2, CountOf(text, $"attention (4 heads, {4 / degree} per rank): 1 AllReduce"));
        Assert.Equal(2, CountOf(text, "mlp: 1 AllReduce"));
        Assert.Contains("per run and rank: 4 AllReduce, 1 AllGather", text);

        // Embeddings and norms stay whole; the split weights are divided.
        Assert.All(split.ParameterBytesPerShard, bytes => Assert.InRange(bytes, split.OriginalParameterBytes / degree, split.OriginalParameterBytes - 1));
    }

    [Fact]
    public void GptsFusedQkvIsSplitPerSegmentByHeads()
    {
        var split = TensorParallelRewriter.Rewrite(TensorParallelCases.LoadModel("gpt_b1_s16"), 2);

        var attention = split.Blocks[0];
        Assert.Equal((TensorParallelBlockKind.Attention, 4), (attention.Kind, attention.Heads));
        Assert.Equal(["/blocks.0/qkv/MatMul"], attention.ColumnNodes);
        Assert.Equal(["/blocks.0/proj/MatMul"], attention.RowNodes);

        // Rank r holds block r of each of Q, K and V: [q0 k0 v0] on rank 0, and the Split takes 64 columns each.
        var whole = TensorParallelCases.LoadModel("gpt_b1_s16").Graph.Initializers["onnx::MatMul_320"].ToArray<float>();
        var shard = split.Shards[1].Graph;
        var qkv = shard.Nodes.Single(n => n.Name == "/blocks.0/qkv/MatMul");
        var part = shard.Initializers[qkv.Inputs[1]];
        Assert.Equal([128, 192], part.Shape);
        var row0 = part.ToArray<float>().Take(192).ToArray();
        Assert.Equal(whole.Skip(64).Take(64).Concat(whole.Skip(128 + 64).Take(64)).Concat(whole.Skip(256 + 64).Take(64)), row0);
        var sizes = shard.Initializers[shard.Nodes.Single(n => n.Name == "/blocks.0/Split").Inputs[1]].ToArray<long>();
        Assert.Equal([64L, 64, 64], sizes);
        Assert.Equal((4, 1), (split.AllReducesPerRun, split.AllGathersPerRun));
    }

    [Fact]
    public void ShardsAreStandaloneOnnxFilesThatRunAfterReloading()
    {
        var model = TensorParallelCases.LoadModel("bert_b3_s32");
        var split = TensorParallelRewriter.Rewrite(model, 2);
        string dir = Directory.CreateTempSubdirectory("tessera-tp-").FullName;
        try
        {
            var reloaded = split.Shards.Select((shard, rank) =>
            {
                string path = Path.Combine(dir, $"shard{rank}.onnx");
                ModelWriter.Save(shard, path);
                return ModelReader.Load(path);
            }).ToList();
            Assert.All(reloaded, m => Assert.Equal(1, m.OpsetImports["com.tessera"]));
            Assert.All(reloaded, m => Assert.Equal(split.ParameterBytesPerShard[0], m.Graph.ParameterBytes));

            var inputs = TensorParallelCases.LoadInputs("bert_b3_s32", model);
            using var group = new TensorParallelGroup(reloaded, new SessionOptions());
            ParallelAgreement.AssertAgrees(TensorParallelCases.RunWhole(model, inputs), group.Run(inputs), "reloaded shards");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheSameShardsServeOtherBatchAndSequenceSizes()
    {
        // Written once, the shards take any batch and sequence length the model takes (heads reshapes copy them).
        var model = TensorParallelCases.LoadModel("gpt_b1_s16");
        var split = TensorParallelRewriter.Rewrite(model, 2);
        using var group = new TensorParallelGroup(split.Shards, new SessionOptions());
        var whole = new InferenceSession(model);
        foreach (var (batch, sequence) in new[] { (1, 16), (3, 5) })
        {
            var ids = Tensor.FromArray(Enumerable.Range(0, batch * sequence).Select(i => (long)((i * 37) % 1000)).ToArray(), batch, sequence);
            var inputs = new Dictionary<string, Tensor> { ["input_ids"] = ids };
            ParallelAgreement.AssertAgrees(whole.Run(inputs), group.Run(inputs), $"batch {batch}, sequence {sequence}");
        }
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
