using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// quantized-matmul-transpose-fusion: an int8 attention's products read Q, K and V out of [b, s, h, d] and write the
/// context back into it through strides, with the bits of the graph with its Transposes.
/// </summary>
public class QuantizedMatMulTransposeFusionTests
{
    // Head widths below, at and above the 16 K values the column packing takes at a time; 20 positions leave a
    // partial 16-column panel.
    [Theory]
    [InlineData(1, 8)]
    [InlineData(1, 40)]
    [InlineData(2, 40)]
    [InlineData(2, 16)]
    public void AttentionReadsAndWritesHeadsThroughStridesWithTheSameBits(int threads, int headWidth)
    {
        var feeds = new Dictionary<string, Tensor>
        {
            ["q"] = Random(4, 2, 20, 3, headWidth),
            ["k"] = Random(5, 2, 20, 3, headWidth),
            ["v"] = Random(6, 2, 20, 3, headWidth),
        };
        var model = Attention(headWidth, [0, 2, 3, 1]);
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        Assert.DoesNotContain("Transpose", Ops(optimized));
        var products = optimized.Graph.Nodes.Where(n => n.OpType == "QuantizedMatMul").ToList();
        Assert.Equal(2, products.Count);
        Assert.Equal([0L, 2, 1, 3], products[0].Attributes["x_perm"].Ints);
        Assert.Equal([0L, 2, 3, 1], products[0].Attributes["w_perm"].Ints);
        Assert.Equal([0L, 2, 1, 3], products[1].Attributes["w_perm"].Ints);
        Assert.Equal([0L, 2, 1, 3], products[1].Attributes["y_perm"].Ints);
        Assert.Equal("y", products[1].Outputs[0]);

        var expected = new InferenceSession(model, new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(feeds)["y"];
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        for (int run = 0; run < 2; run++)
        {
            var actual = session.Run(feeds)["y"];
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
        }
    }

    [Fact]
    public void KAsRowsOfWIsReadThroughStridesToo()
    {
        // K transposed to [b, h, s, d] and multiplied as W = [b, h, s, d] (rows of W contiguous, at a stride).
        var feeds = new Dictionary<string, Tensor>
        {
            ["q"] = Random(7, 2, 20, 3, 20),
            ["k"] = Random(8, 2, 20, 3, 20),
            ["v"] = Random(9, 2, 20, 3, 20),
        };
        var model = Attention(20, [0, 2, 1, 3]);
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions());
        Assert.DoesNotContain("Transpose", Ops(optimized));
        var expected = new InferenceSession(model, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None }).Run(feeds)["y"];
        var actual = new InferenceSession(model, new SessionOptions()).Run(feeds)["y"];
        Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
    }

    [Fact]
    public void ATransposeOfTheLastAxisOfXStays()
    {
        // X = Transpose(q, 0, 1, 3, 2): its rows would be columns of q, which the packing does not read.
        var feeds = new Dictionary<string, Tensor> { ["q"] = Random(4, 2, 3, 8, 20), ["k"] = Random(5, 2, 3, 8, 20) };
        var model = new GraphBuilder()
            .Input("q", DataType.Float32, 2, 3, 8, 20)
            .Input("k", DataType.Float32, 2, 3, 8, 20)
            .Node("Transpose", ["q"], ["qt"], "transpose_q", GraphBuilder.Ints("perm", 0, 1, 3, 2))
            .Node("DynamicQuantizeLinear", ["qt"], ["qq", "qs", "qz"], "quantize_q")
            .Node("DynamicQuantizeLinear", ["k"], ["kq", "ks", "kz"], "quantize_k")
            .Node("MatMulInteger", ["qq", "kq", "qz", "kz"], ["i"], "product")
            .Node("Cast", ["i"], ["f"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["qs", "ks"], ["sc"], "scales")
            .Node("Mul", ["f", "sc"], ["y"], "dequantize")
            .Output("y", DataType.Float32)
            .Build();
        var optimized = Check(model, feeds);
        Assert.Equal(["Transpose", "QuantizedMatMul"], Ops(optimized));
        Assert.False(Single(optimized, "QuantizedMatMul").Attributes.ContainsKey("x_perm"));
    }

    // softmax(Q·Kᵀ / c)·V over heads of [b, s, h, d], every activation product quantized as `tessera quantize`
    // writes it (a DynamicQuantizeLinear on each input, MatMulInteger → Cast → Mul(scales)), the context transposed
    // back. K is transposed by kPerm: to [b, h, d, s] (Kᵀ), or to [b, h, s, d] (a W of rows at a stride, which
    // multiplies as Q·K when d = s).
    private static OnnxModel Attention(int d, long[] kPerm)
    {
        var builder = new GraphBuilder()
            .Input("q", DataType.Float32, 2, 20, 3, d)
            .Input("k", DataType.Float32, 2, 20, 3, d)
            .Input("v", DataType.Float32, 2, 20, 3, d)
            .Initializer("c", Tensor.Scalar(2.83f))
            .Node("Transpose", ["q"], ["qt"], "transpose_q", GraphBuilder.Ints("perm", 0, 2, 1, 3))
            .Node("Transpose", ["k"], ["kt"], "transpose_k", GraphBuilder.Ints("perm", kPerm))
            .Node("Transpose", ["v"], ["vt"], "transpose_v", GraphBuilder.Ints("perm", 0, 2, 1, 3));
        return builder
            .Node("DynamicQuantizeLinear", ["qt"], ["qq", "qs", "qz"], "quantize_q")
            .Node("DynamicQuantizeLinear", ["kt"], ["kq", "ks", "kz"], "quantize_k")
            .Node("MatMulInteger", ["qq", "kq", "qz", "kz"], ["si"], "scores")
            .Node("Cast", ["si"], ["sf"], "cast_scores", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["qs", "ks"], ["ssc"], "score_scales")
            .Node("Mul", ["sf", "ssc"], ["s"], "dequantize_scores")
            .Node("Div", ["s", "c"], ["sd"], "scale")
            .Node("Softmax", ["sd"], ["p"], "softmax", GraphBuilder.Int("axis", -1))
            .Node("DynamicQuantizeLinear", ["p"], ["pq", "ps", "pz"], "quantize_p")
            .Node("DynamicQuantizeLinear", ["vt"], ["vq", "vs", "vz"], "quantize_v")
            .Node("MatMulInteger", ["pq", "vq", "pz", "vz"], ["ci"], "context")
            .Node("Cast", ["ci"], ["cf"], "cast_context", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["ps", "vs"], ["csc"], "context_scales")
            .Node("Mul", ["cf", "csc"], ["c4"], "dequantize_context")
            .Node("Transpose", ["c4"], ["y"], "transpose_context", GraphBuilder.Ints("perm", 0, 2, 1, 3))
            .Output("y", DataType.Float32)
            .Build();
    }
}
