using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// shared-input-quantized-matmul-fusion: dynamically quantized products of one input (attention's Q, K and V) become one
/// QuantizedMatMul with an output per product, with the bits of the products apart.
/// </summary>
public class SharedInputQuantizedMatMulFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(4, 2, 50, 40) };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ProductsOfOneInputBecomeOneWithTheSameBits(int threads)
    {
        // Per-column and per-tensor scales, a weight zero point on one product, biases: 100 rows, K 40, 3 x 32 columns.
        var model = Products(new GraphBuilder(), [32, 32, 32], bias: true).Output("y0").Output("y1").Output("y2").Build();
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        var fused = Single(optimized, "QuantizedMatMul");
        Assert.Equal(["y0", "y1", "y2"], fused.Outputs);
        Assert.Equal(["QuantizedMatMul"], Ops(optimized));

        var expected = new InferenceSession(model, new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(Feeds);
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        for (int run = 0; run < 2; run++)
        {
            var actual = session.Run(Feeds);
            foreach (string name in new[] { "y0", "y1", "y2" })
            {
                Assert.Equal(expected[name].Shape, actual[name].Shape);
                Assert.Equal(expected[name].Bytes.ToArray(), actual[name].Bytes.ToArray());
            }
        }
    }

    [Fact]
    public void ProductsOfDifferentWidthsOrBiasesStayApart()
    {
        var widths = Products(new GraphBuilder(), [32, 48], bias: true).Output("y0").Output("y1").Build();
        Assert.Equal(["QuantizedMatMul", "QuantizedMatMul"], Ops(Check(widths, Feeds)));

        // Widths that are no multiple of the GEMM's 16-column tile cannot be split between outputs: the kernel refuses.
        var narrow = Products(new GraphBuilder(), [24, 24], bias: false).Output("y0").Output("y1").Build();
        Assert.Equal(["QuantizedMatMul", "QuantizedMatMul"], Ops(Check(narrow, Feeds)));
    }

    [Fact]
    public void AProductWithAnActivationStaysApart()
    {
        var model = Products(new GraphBuilder(), [32, 32], bias: true)
            .Node("Relu", ["y1"], ["r"], "relu")
            .Output("y0")
            .Output("r")
            .Build();
        var optimized = Check(model, Feeds);
        Assert.Equal(["QuantizedMatMul", "QuantizedMatMul"], Ops(optimized));
    }

    // x → one DynamicQuantizeLinear → per width a MatMulInteger by its own int8 weight → Cast → Mul(x_scale · w_scale) [→ Add bias] → y{i}.
    private static GraphBuilder Products(GraphBuilder builder, int[] widths, bool bias)
    {
        builder.Input("x", DataType.Float32, "b", "s", 40).Node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], "quantize");
        var random = new Random(7);
        for (int i = 0; i < widths.Length; i++)
        {
            int n = widths[i];
            var weight = Enumerable.Range(0, 40 * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            var scales = RandomFloats(i == 1 ? 1 : n, 8 + i).Select(v => 0.01f + (Math.Abs(v) / 100)).ToArray();
            string product = bias ? $"m{i}" : $"y{i}";
            builder.Initializer($"w{i}", Tensor.FromArray(weight, 40, n))
                .Initializer($"ws{i}", Tensor.FromArray(scales, scales.Length))
                .Node("MatMulInteger", i == 2 ? ["xq", $"w{i}", "xz", "wz"] : ["xq", $"w{i}", "xz"], [$"p{i}"], $"product{i}")
                .Node("Cast", [$"p{i}"], [$"f{i}"], $"cast{i}", GraphBuilder.Int("to", (long)DataType.Float32))
                .Node("Mul", ["xs", $"ws{i}"], [$"s{i}"], $"scales{i}")
                .Node("Mul", [$"f{i}", $"s{i}"], [product], $"dequantize{i}");
            if (bias) builder.Initializer($"b{i}", Tensor.FromArray(RandomFloats(n, 20 + i), n)).Node("Add", [product, $"b{i}"], [$"y{i}"], $"bias{i}");
        }

        return builder.Initializer("wz", Tensor.FromArray(new sbyte[] { 3 }));
    }
}
