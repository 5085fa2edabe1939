using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// quantized-matmul-split-fusion: a dynamically quantized product split into equal parts along its last axis (GPT's
/// one Q/K/V projection) becomes one QuantizedMatMul that writes the parts, with the bits of the product and Split.
/// </summary>
public class QuantizedMatMulSplitFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(4, 2, 50, 40) };

    [Theory]
    [InlineData(1, 2L, true)]
    [InlineData(2, -1L, false)]
    [InlineData(2, 2L, true)]
    public void ASplitOfTheLastAxisBecomesTheProductsOutputsWithTheSameBits(int threads, long axis, bool sizes)
    {
        // 100 rows, K 40, 96 columns in 3 parts of 32; per-column scales, a weight zero point and a bias.
        var model = SplitProduct(96, axis, sizes ? [32, 32, 32] : null).Build();
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        Assert.Equal(["QuantizedMatMul"], Ops(optimized));
        Assert.Equal(["y0", "y1", "y2"], Single(optimized, "QuantizedMatMul").Outputs);

        var expected = new InferenceSession(model, new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(Feeds);
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        for (int run = 0; run < 2; run++)
        {
            var actual = session.Run(Feeds);
            foreach (string name in new[] { "y0", "y1", "y2" })
            {
                Assert.Equal([2, 50, 32], actual[name].Shape);
                Assert.Equal(expected[name].Bytes.ToArray(), actual[name].Bytes.ToArray());
            }
        }
    }

    [Fact]
    public void OtherSplitsStayApart()
    {
        // Another axis; unequal parts; parts no multiple of the GEMM's 16-column tile (the kernel could not write them).
        Assert.Equal(["QuantizedMatMul", "Split"], Ops(Check(SplitProduct(96, 1, [20, 20, 10]).Build(), Feeds)));
        Assert.Equal(["QuantizedMatMul", "Split"], Ops(Check(SplitProduct(96, 2, [32, 64]).Build(), Feeds)));
        Assert.Equal(["QuantizedMatMul", "Split"], Ops(Check(SplitProduct(72, 2, null).Build(), Feeds)));
    }

    [Fact]
    public void AProductReadElsewhereStaysApart()
    {
        var model = SplitProduct(96, 2, null).Output("y").Build();
        Assert.Equal(["QuantizedMatMul", "Split"], Ops(Check(model, Feeds)));
    }

    // x → DynamicQuantizeLinear → MatMulInteger by an int8 weight (with a zero point) → Cast → Mul(x_scale · w_scale)
    // → Add bias → y → Split(axis, sizes as input, or equal parts) → y0, y1, ... (one output per size, else 3).
    private static GraphBuilder SplitProduct(int n, long axis, long[]? sizes)
    {
        var random = new Random(7);
        var weight = Enumerable.Range(0, 40 * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var scales = RandomFloats(n, 8).Select(v => 0.01f + (Math.Abs(v) / 100)).ToArray();
        var outputs = Enumerable.Range(0, sizes?.Length ?? 3).Select(i => $"y{i}").ToArray();
        var builder = new GraphBuilder()
            .Input("x", DataType.Float32, "b", "s", 40)
            .Initializer("w", Tensor.FromArray(weight, 40, n))
            .Initializer("wz", Tensor.FromArray(new sbyte[] { 3 }))
            .Initializer("ws", Tensor.FromArray(scales, n))
            .Initializer("bias", Tensor.FromArray(RandomFloats(n, 20), n))
            .Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], "quantize")
            .Node("MatMulInteger", ["xq", "w", "xz", "wz"], ["p"], "product")
            .Node("Cast", ["p"], ["f"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["xs", "ws"], ["s"], "scales")
            .Node("Mul", ["f", "s"], ["m"], "dequantize")
            .Node("Add", ["m", "bias"], ["y"], "add_bias");
        if (sizes is null)
        {
            builder.Node("Split", ["y"], outputs, "split", GraphBuilder.Int("axis", axis));
        }
        else
        {
            builder.Initializer("sizes", Tensor.FromArray(sizes, sizes.Length))
                .Node("Split", ["y", "sizes"], outputs, "split", GraphBuilder.Int("axis", axis));
        }

        foreach (string output in outputs) builder.Output(output);
        return builder;
    }
}
