using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// quantized-matmul-range-fusion: an int8 attention's Q·Kᵀ and P·V take Q's, K's and V's ranges from the Q/K/V
/// projection's epilogue (part_ranges) instead of a pass over each, with the bits of the graph without it.
/// </summary>
public class QuantizedMatMulRangeFusionTests
{
    private const string Pass = "quantized-matmul-range-fusion";

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void TheAttentionReadsTheProjectionsRangesWithTheSameBits(int threads, bool split)
    {
        // 2 x 40 rows (the last 6-row tile short), 2 heads of 16 per part; merged projections or one split product.
        var model = Attention(split, 2, 32);
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 40, 48) };
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        var projection = Assert.Single(optimized.Graph.Nodes, n => n.OpType == "QuantizedMatMul" && n.Attributes.ContainsKey("part_ranges"));
        Assert.Equal(6, projection.Outputs.Count);
        var products = optimized.Graph.Nodes.Where(n => n.OpType == "QuantizedMatMul" && n != projection).ToList();
        Assert.Equal(2, products.Count);
        // Q·Kᵀ reads Q's and K's ranges; P·V reads P's from the softmax and V's.
        Assert.Equal([projection.Outputs[3], projection.Outputs[4]], [products[0].Inputs[8], products[0].Inputs[9]]);
        Assert.Equal(projection.Outputs[5], products[1].Inputs[9]);

        var unfused = new SessionOptions { Threads = threads, DisabledPasses = [Pass] };
        Assert.DoesNotContain(GraphOptimizer.Optimize(model, unfused).Graph.Nodes, n => n.Attributes.ContainsKey("part_ranges"));
        var expected = new InferenceSession(model, unfused).Run(feeds);
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        for (int run = 0; run < 2; run++)
        {
            var actual = session.Run(feeds);
            foreach (string name in new[] { "scores", "context" })
            {
                Assert.Equal(expected[name].Bytes.ToArray(), actual[name].Bytes.ToArray());
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ThePartRangesAreTheSmallestAndLargestValueOfEachPart(int threads)
    {
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(9, 3, 37, 24) };
        var outputs = new InferenceSession(RangedProjection(RandomFloats(96, 20)), new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(feeds);
        for (int part = 0; part < 3; part++)
        {
            var values = outputs[$"y{part}"].Span<float>().ToArray();
            Assert.Equal([3, 37, 32], outputs[$"y{part}"].Shape);
            Assert.Equal(new[] { values.Min(), values.Max() }, outputs[$"r{part}"].Span<float>().ToArray());
        }
    }

    [Fact]
    public void ANonFiniteBiasGivesNaNRangesSoTheReaderMakesItsPass()
    {
        // An infinite bias makes infinite values, which the epilogue's min/max would take, but a NaN bias would make
        // NaNs it cannot see: any non-finite bias or scale gives NaN, which the reader ignores.
        var bias = RandomFloats(96, 20);
        bias[40] = float.PositiveInfinity;
        var outputs = new InferenceSession(RangedProjection(bias), new SessionOptions { GraphOptimization = GraphOptimizationLevel.None })
            .Run(new Dictionary<string, Tensor> { ["x"] = Random(9, 3, 37, 24) });
        for (int part = 0; part < 3; part++) Assert.All(outputs[$"r{part}"].Span<float>().ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void TheProductQuantizesWWithTheRangeGivenAndMakesItsPassForANonFiniteOne()
    {
        // W's true range gives the pass's bits; a wider one other bits (so it is read); NaN falls back to the pass.
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(1, 2, 20, 24), ["w"] = Random(2, 2, 24, 16) };
        var w = feeds["w"].Span<float>().ToArray();
        var model = ActivationProductWithRange();
        var session = new InferenceSession(model, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None });
        byte[] Run(float least, float most) =>
            session.Run(new Dictionary<string, Tensor>(feeds) { ["w_range"] = Tensor.FromArray(new[] { least, most }, 2) })["y"].Bytes.ToArray();

        var pass = Run(float.NaN, float.NaN);
        Assert.Equal(pass, Run(w.Min(), w.Max()));
        Assert.Equal(pass, Run(w.Min(), float.PositiveInfinity));
        Assert.NotEqual(pass, Run(2 * w.Min(), 2 * w.Max()));
    }

    [Fact]
    public void AProductOfOneOutputGivesNoRange()
    {
        // One projection feeding Q·Kᵀ as both operands: no parts, so the product finds the ranges itself.
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "b", "s", 48)
            .Initializer("w", Weight(48, 32, 3))
            .Initializer("ws", Tensor.FromArray(Enumerable.Repeat(0.02f, 32).ToArray(), 32))
            .Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], "quantize")
            .Node("MatMulInteger", ["xq", "w", "xz"], ["p"], "product")
            .Node("Cast", ["p"], ["f"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["xs", "ws"], ["sc"], "scales")
            .Node("Mul", ["f", "sc"], ["q"], "dequantize")
            .Node("Transpose", ["q"], ["qt"], "transpose", GraphBuilder.Ints("perm", 0, 2, 1));
        ActivationProduct(model, "q", "qt", "scores").Output("scores");
        var optimized = Check(model.Build(), new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 40, 48) });
        Assert.DoesNotContain(optimized.Graph.Nodes, n => n.Attributes.ContainsKey("part_ranges") || n.Inputs.Count > 8);
    }

    // x [b, s, 48] → Q, K, V projections (dynamic int8, per-column scales, biases; side by side, or one product and a
    // Split) → heads [b, h, s, d] through Reshape and Transpose → scores = Q·Kᵀ, context = Softmax(scores)·V, each of
    // the two a DynamicQuantizeLinear pair → MatMulInteger → Cast → Mul as `tessera quantize` writes them.
    private static OnnxModel Attention(bool split, int heads, int width)
    {
        var builder = new GraphBuilder()
            .Input("x", DataType.Float32, "b", "s", 48)
            .Initializer("heads", Tensor.FromArray(new long[] { 0, 0, heads, width / heads }, 4))
            .Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], "quantize");
        if (split)
        {
            Projection(builder, "qkv", 3 * width, 1);
            builder.Node("Split", ["qkv"], ["q", "k", "v"], "split", GraphBuilder.Int("axis", 2));
        }
        else
        {
            foreach (var (name, seed) in new[] { ("q", 1), ("k", 2), ("v", 3) }) Projection(builder, name, width, seed);
        }

        foreach (string name in new[] { "q", "k", "v" })
        {
            builder.Node("Reshape", [name, "heads"], [name + "r"], name + "_reshape");
        }

        builder.Node("Transpose", ["qr"], ["qh"], "q_heads", GraphBuilder.Ints("perm", 0, 2, 1, 3))
            .Node("Transpose", ["kr"], ["kh"], "k_heads", GraphBuilder.Ints("perm", 0, 2, 3, 1))
            .Node("Transpose", ["vr"], ["vh"], "v_heads", GraphBuilder.Ints("perm", 0, 2, 1, 3));
        ActivationProduct(builder, "qh", "kh", "scores")
            .Node("Softmax", ["scores"], ["probabilities"], "softmax", GraphBuilder.Int("axis", -1));
        ActivationProduct(builder, "probabilities", "vh", "context");
        return builder.Output("scores").Output("context").Build();
    }

    // xq (from x) times an int8 weight of the given width, dequantized with per-column scales plus a bias, into name.
    private static void Projection(GraphBuilder builder, string name, int width, int seed)
    {
        builder.Initializer(name + "_w", Weight(48, width, seed))
            .Initializer(name + "_ws", Tensor.FromArray(RandomFloats(width, seed + 10).Select(v => 0.005f + (Math.Abs(v) / 200)).ToArray(), width))
            .Initializer(name + "_b", Tensor.FromArray(RandomFloats(width, seed + 20), width))
            .Node("MatMulInteger", ["xq", name + "_w", "xz"], [name + "_p"], name + "_product")
            .Node("Cast", [name + "_p"], [name + "_f"], name + "_cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["xs", name + "_ws"], [name + "_s"], name + "_scales")
            .Node("Mul", [name + "_f", name + "_s"], [name + "_m"], name + "_dequantize")
            .Node("Add", [name + "_m", name + "_b"], [name], name + "_bias");
    }

    private static GraphBuilder ActivationProduct(GraphBuilder builder, string a, string b, string y) => builder
        .Node("DynamicQuantizeLinear", [a], [a + "_q", a + "_qs", a + "_qz"], a + "_quantize")
        .Node("DynamicQuantizeLinear", [b], [b + "_q", b + "_qs", b + "_qz"], b + "_quantize")
        .Node("MatMulInteger", [a + "_q", b + "_q", a + "_qz", b + "_qz"], [y + "_i"], y + "_product")
        .Node("Cast", [y + "_i"], [y + "_f"], y + "_cast", GraphBuilder.Int("to", (long)DataType.Float32))
        .Node("Mul", [a + "_qs", b + "_qs"], [y + "_s"], y + "_scales")
        .Node("Mul", [y + "_f", y + "_s"], [y], y + "_dequantize");

    // com.tessera QuantizedMatMul(x [.., 24], dynamic) by an int8 weight of 3 parts of 32 columns with their ranges.
    private static OnnxModel RangedProjection(float[] bias)
    {
        var builder = new GraphBuilder()
            .Input("x", DataType.Float32, "b", "s", 24)
            .Initializer("w", Weight(24, 96, 5))
            .Initializer("ws", Tensor.FromArray(RandomFloats(96, 6).Select(v => 0.01f + (Math.Abs(v) / 100)).ToArray(), 96))
            .Initializer("wz", Tensor.FromArray(new sbyte[] { 2 }))
            .Initializer("bias", Tensor.FromArray(bias, 96))
            .Node("QuantizedMatMul", ["x", "", "", "w", "ws", "wz", "bias"], ["y0", "y1", "y2", "r0", "r1", "r2"], "projection",
                GraphBuilder.Int("dynamic", 1), GraphBuilder.Int("part_ranges", 1));
        foreach (string name in new[] { "y0", "y1", "y2", "r0", "r1", "r2" }) builder.Output(name);
        var model = builder.Build();
        model.Graph.Nodes[^1].Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        return model;
    }

    // com.tessera QuantizedMatMul(x, w) of two activations (dynamic) with W's range as input 9.
    private static OnnxModel ActivationProductWithRange()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 20, 24)
            .Input("w", DataType.Float32, 2, 24, 16)
            .Input("w_range", DataType.Float32, 2)
            .Node("QuantizedMatMul", ["x", "", "", "w", "", "", "", "", "", "w_range"], ["y"], "product", GraphBuilder.Int("dynamic", 1))
            .Output("y")
            .Build();
        model.Graph.Nodes[^1].Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        return model;
    }

    private static Tensor Weight(int k, int n, int seed)
    {
        var random = new Random(seed);
        return Tensor.FromArray(Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(), k, n);
    }
}
