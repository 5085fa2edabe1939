using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// residual-add-fusion: a residual Add (and a following Relu) folded into FusedConv's "sum" input, and into a
/// quantized product's, outputs unchanged.
/// </summary>
public class ResidualAddFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(1, 2, 4, 9, 7) };

    // x → Conv (same shape as x) → Add(conv, x) → [Relu]
    private static GraphBuilder Residual(bool bias, int kernel = 3) => new GraphBuilder()
        .Input("x", DataType.Float32, 2, 4, 9, 7)
        .Initializer("w", Random(2, 4, 4, kernel, kernel))
        .Initializer("b", Random(3, 4))
        .Node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["c"], "conv", GraphBuilder.Ints("pads", kernel / 2, kernel / 2, kernel / 2, kernel / 2));

    [Theory]
    [InlineData(true, 3)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    public void ResidualAddAndReluBecomeOneFusedConv(bool bias, int kernel)
    {
        var model = Residual(bias, kernel)
            .Node("Add", ["x", "c"], ["s"], "add")
            .Node("Relu", ["s"], ["y"], "relu")
            .Output("y")
            .Build();
        var optimized = Check(model, Feeds);
        Assert.Equal(["FusedConv"], Ops(optimized));
        var fused = Single(optimized, "FusedConv");
        Assert.Equal(["x", "w", bias ? "b" : "", "x"], fused.Inputs);
        Assert.Equal("y", fused.Outputs[0]);
        Assert.Equal("Relu", fused.Attributes["activation"].String);
    }

    [Fact]
    public void AddWithoutActivationIsFusedToo()
    {
        var model = Residual(true).Node("Add", ["c", "x"], ["y"], "add").Output("y").Build();
        var optimized = Check(model, Feeds);
        Assert.Equal(["FusedConv"], Ops(optimized));
        Assert.False(Single(optimized, "FusedConv").Attributes.ContainsKey("activation"));
    }

    [Fact]
    public void BroadcastingAddIsLeftAlone()
    {
        // A fed (not constant) per-image, per-channel term: affine folding cannot take it either.
        var model = Residual(true)
            .Input("p", DataType.Float32, 2, 4, 1, 1)
            .Node("Add", ["c", "p"], ["y"], "add")
            .Output("y")
            .Build();
        var feeds = Feeds;
        feeds["p"] = Random(9, 2, 4, 1, 1);
        var optimized = Check(model, feeds);
        Assert.Contains("Add", Ops(optimized));
    }

    [Fact]
    public void ConvOutputReadElsewhereIsLeftAlone()
    {
        var model = Residual(true)
            .Node("Add", ["c", "x"], ["y"], "add")
            .Node("Neg", ["c"], ["z"], "neg")
            .Output("y")
            .Output("z")
            .Build();
        var optimized = Check(model, Feeds);
        Assert.Equal(["Conv", "Add", "Neg"], Ops(optimized));
    }

    [Fact]
    public void ActivatedConvIsNotGivenASum()
    {
        // act(conv) + x must stay as it is: the fused kernel adds the sum before its activation.
        var model = Residual(true)
            .Node("Relu", ["c"], ["r"], "relu")
            .Node("Add", ["r", "x"], ["y"], "add")
            .Output("y")
            .Build();
        var optimized = Check(model, Feeds);
        Assert.Equal(["FusedConv", "Add"], Ops(optimized));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ResidualAddAfterAQuantizedMatMulBecomesItsSumWithTheSameBits(int threads)
    {
        // 100 rows (two GEMM blocks), K 40 (padded), N 24 (a full 16-column tile and a partial one: both epilogues).
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 50, 40), ["r"] = Random(5, 2, 50, 24) };
        var options = new SessionOptions { Threads = threads };
        var optimized = GraphOptimizer.Optimize(QuantizedResidual(add: true), options);
        Assert.Equal(["QuantizedMatMul"], Ops(optimized));
        Assert.Equal("r", Single(optimized, "QuantizedMatMul").Inputs[7]);

        // The product alone (fused with its bias, as before) plus r in float, as the Add did: the same bits.
        var product = new InferenceSession(QuantizedResidual(add: false), options).Run(feeds)["p"].ToArray<float>();
        var y = new InferenceSession(QuantizedResidual(add: true), options).Run(feeds)["y"].ToArray<float>();
        var r = feeds["r"].ToArray<float>();
        Assert.Equal(product.Select((p, i) => BitConverter.SingleToInt32Bits(p + r[i])), y.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void QuantizedMatMulWithAnActivationIsNotGivenASum()
    {
        // act(x·W) + r must stay as it is: the fused kernel adds the sum before its activation.
        var model = QuantizedChain(QuantizedInputs())
            .Node("Relu", ["p"], ["a"], "relu")
            .Node("Add", ["a", "r"], ["y"], "residual")
            .Output("y")
            .Build();
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 50, 40), ["r"] = Random(5, 2, 50, 24) };
        var optimized = Check(model, feeds);
        Assert.Equal(["QuantizedMatMul", "Add"], Ops(optimized));
    }

    [Theory]
    [InlineData(new[] { 2, 50, 24 }, 1)] // symbolic dimensions: fused, added in the epilogue
    [InlineData(new[] { 50, 24 }, 2)] // broadcast over the batch: added after the product
    [InlineData(new[] { 3, 2, 50, 24 }, 2)] // a larger sum: the output takes the broadcast shape
    public void QuantizedMatMulSumOfAnyShapeAddsAsTheAddDid(int[] residualShape, int threads)
    {
        var symbolic = residualShape.Select((d, i) => (object)$"r{i}").ToArray();
        var model = QuantizedChain(new GraphBuilder().Input("x", DataType.Float32, "b", "s", 40).Input("r", DataType.Float32, symbolic))
            .Node("Add", ["p", "r"], ["s1"], "residual")
            .Node("Relu", ["s1"], ["y"], "relu")
            .Output("y")
            .Build();
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(4, 2, 50, 40), ["r"] = Random(5, residualShape) };
        var optimized = Check(model, feeds, registry: null);
        Assert.Equal(["QuantizedMatMul"], Ops(optimized));
        Assert.Equal("Relu", Single(optimized, "QuantizedMatMul").Attributes["activation"].String);
        var options = new SessionOptions { Threads = threads };
        var unfused = new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None };
        Assert.Equal(new InferenceSession(model, unfused).Run(feeds)["y"].Bytes.ToArray(), new InferenceSession(model, options).Run(feeds)["y"].Bytes.ToArray());
    }

    private static GraphBuilder QuantizedInputs() => new GraphBuilder()
        .Input("x", DataType.Float32, 2, 50, 40)
        .Input("r", DataType.Float32, 2, 50, 24);

    // The dynamic quantization chain `tessera quantize` writes: int8 weight with per-column scales, and a bias.
    private static GraphBuilder QuantizedChain(GraphBuilder builder)
    {
        var random = new Random(7);
        var weight = Enumerable.Range(0, 40 * 24).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        return builder
            .Initializer("w", Tensor.FromArray(weight, 40, 24))
            .Initializer("ws", Tensor.FromArray(RandomFloats(24, 8).Select(v => 0.01f + (Math.Abs(v) / 100)).ToArray(), 24))
            .Initializer("b", Tensor.FromArray(RandomFloats(24, 9), 24))
            .Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], "quantize")
            .Node("MatMulInteger", ["xq", "w", "xz"], ["pi"], "product")
            .Node("Cast", ["pi"], ["pf"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["xs", "ws"], ["s"], "scales")
            .Node("Mul", ["pf", "s"], ["pm"], "dequantize")
            .Node("Add", ["pm", "b"], ["p"], "bias");
    }

    private static OnnxModel QuantizedResidual(bool add) => add
        ? QuantizedChain(QuantizedInputs()).Node("Add", ["r", "p"], ["y"], "residual").Output("y").Build()
        : QuantizedChain(QuantizedInputs()).Output("p").Build();
}
