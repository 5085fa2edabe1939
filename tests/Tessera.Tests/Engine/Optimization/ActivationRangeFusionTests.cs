using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// activation-range-fusion: a dynamic quantized product takes X's range from the activated product that made X (a
/// down-projection after the up-projection's GELU), with the same bits as the pass over X.
/// </summary>
public class ActivationRangeFusionTests
{
    [Theory]
    [InlineData("Gelu", 1)]
    [InlineData("Gelu", 2)]
    [InlineData("Relu", 1)]
    [InlineData("Tanh", 2)]
    public void TheDownProjectionReadsItsRangeFromTheActivationWithTheSameBits(string activation, int threads)
    {
        // 100 rows: two GEMM blocks at 1 thread (the activation and the rows' ranges in each block), and B's panels
        // shared out at 2 (the activation and ranges after the product).
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 50, 40) };
        var model = UpDown(activation);
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        var products = optimized.Graph.Nodes.Where(n => n.OpType == "QuantizedMatMul").ToArray();
        Assert.Equal(2, products.Length);
        Assert.Equal(activation, products[0].Attributes["activation"].String);
        Assert.Equal(2, products[0].Outputs.Count);
        Assert.Equal(products[0].Outputs[1], products[1].Inputs[8]);

        AssertSameBits(model, feeds, threads);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void InfinitiesInXGiveTheSameBits(int threads)
    {
        // One huge input makes some up-projection outputs +inf (and others 0 after Relu): the range is not finite, and
        // the down-projection finds its parameters by the pass, as the unfused graph does.
        var x = RandomFloats(2 * 50 * 40, 4);
        x[123] = 3e38f;
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(x, 2, 50, 40) };
        var model = UpDown("Relu");
        var h = new InferenceSession(UpDown("Relu", output: "h"), new SessionOptions { Threads = threads }).Run(feeds)["h"].ToArray<float>();
        Assert.Contains(h, float.IsPositiveInfinity);
        AssertSameBits(model, feeds, threads);
    }

    // The graph with the pass and without it (every other pass on) give the same bytes, and so does the unoptimized one.
    private static void AssertSameBits(OnnxModel model, Dictionary<string, Tensor> feeds, int threads)
    {
        var fused = new InferenceSession(model, new SessionOptions { Threads = threads }).Run(feeds)["y"];
        var unfused = new InferenceSession(model, new SessionOptions { Threads = threads, DisabledPasses = ["activation-range-fusion"] }).Run(feeds)["y"];
        var plain = new InferenceSession(model, new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(feeds)["y"];
        Assert.Equal(unfused.Bytes.ToArray(), fused.Bytes.ToArray());
        Assert.Equal(plain.Bytes.ToArray(), fused.Bytes.ToArray());
    }

    // x → the dynamic quantization chain `tessera quantize` writes (int8 W1 40 x 48, per-column scales, bias) →
    // activation → h → the same chain by W2 48 x 24 → y.
    private static OnnxModel UpDown(string activation, string output = "y")
    {
        var builder = new GraphBuilder().Input("x", DataType.Float32, 2, 50, 40);
        Chain(builder, "x", "p", 40, 48, 7);
        builder.Node(activation, ["p"], ["h"], "activation");
        Chain(builder, "h", "y", 48, 24, 8);
        return builder.Output(output).Build(20);
    }

    private static void Chain(GraphBuilder builder, string x, string y, int k, int n, int seed)
    {
        var random = new Random(seed);
        var weight = Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        builder
            .Initializer(y + "_w", Tensor.FromArray(weight, k, n))
            .Initializer(y + "_ws", Tensor.FromArray(RandomFloats(n, seed + 1).Select(v => 0.01f + (Math.Abs(v) / 100)).ToArray(), n))
            .Initializer(y + "_b", Tensor.FromArray(RandomFloats(n, seed + 2), n))
            .Node("DynamicQuantizeLinear", [x], [y + "_xq", y + "_xs", y + "_xz"], y + "_quantize")
            .Node("MatMulInteger", [y + "_xq", y + "_w", y + "_xz"], [y + "_pi"], y + "_product")
            .Node("Cast", [y + "_pi"], [y + "_pf"], y + "_cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", [y + "_xs", y + "_ws"], [y + "_s"], y + "_scales")
            .Node("Mul", [y + "_pf", y + "_s"], [y + "_pm"], y + "_dequantize")
            .Node("Add", [y + "_pm", y + "_b"], [y], y + "_bias");
    }
}
