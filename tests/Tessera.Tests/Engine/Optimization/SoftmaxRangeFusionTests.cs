using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>softmax-range-fusion: an int8 attention's P·V takes P's range from the softmax that made P, with the same bits.</summary>
public class SoftmaxRangeFusionTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void PVReadsPsRangeFromTheSoftmaxWithTheSameBits(int threads, bool maskedRow)
    {
        var mask = new float[2 * 20];
        for (int i = 0; i < mask.Length; i++) mask[i] = i % 7 == 3 ? -10000f : 0f;
        // A row masked to -inf everywhere gives NaN (as ONNX Softmax does): the product then finds the range itself.
        if (maskedRow) Array.Fill(mask, float.NegativeInfinity, 20, 20);
        var feeds = new Dictionary<string, Tensor>
        {
            ["s"] = Random(4, 2, 3, 20, 20),
            ["m"] = Tensor.FromArray(mask, 2, 1, 1, 20),
            ["v"] = Random(5, 2, 3, 20, 16),
        };
        var model = Attention();
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        var softmax = Single(optimized, "FusedScaleMaskSoftmax");
        var product = Single(optimized, "QuantizedMatMul");
        Assert.Equal(3, softmax.Outputs.Count);
        Assert.Equal(softmax.Outputs[1], product.Inputs[8]);
        Assert.Equal(0, softmax.Attributes["normalize"].Int);
        Assert.Equal(softmax.Outputs[2], product.Inputs[11]);

        var expected = new InferenceSession(model, new SessionOptions { Threads = threads, GraphOptimization = GraphOptimizationLevel.None }).Run(feeds)["y"];
        var actual = new InferenceSession(model, new SessionOptions { Threads = threads }).Run(feeds)["y"];
        Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
    }

    [Fact]
    public void PReadByAnotherNodeStaysNormalised()
    {
        // P is also a graph output: it must hold the softmax's values, so only the range moves to the product. The scale
        // divides by 4, which the fused softmax's multiply by 1/4 matches bit for bit (for c = 5.65 the scale-mask
        // fusion's x·(1/c) is not always x / c: P then differs from the unfused graph's in the last bit).
        var feeds = new Dictionary<string, Tensor>
        {
            ["s"] = Random(4, 2, 3, 20, 20),
            ["m"] = Tensor.FromArray(new float[2 * 20], 2, 1, 1, 20),
            ["v"] = Random(5, 2, 3, 20, 16),
        };
        var model = Attention(pIsOutput: true, divisor: 4f);
        var softmax = Single(GraphOptimizer.Optimize(model, new SessionOptions()), "FusedScaleMaskSoftmax");
        Assert.Equal(2, softmax.Outputs.Count);
        Assert.False(softmax.Attributes.ContainsKey("normalize"));

        var expected = new InferenceSession(model, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None }).Run(feeds);
        var actual = new InferenceSession(model, new SessionOptions()).Run(feeds);
        Assert.Equal(expected["y"].Bytes.ToArray(), actual["y"].Bytes.ToArray());
        Assert.Equal(expected["p"].Bytes.ToArray(), actual["p"].Bytes.ToArray());
    }

    // Softmax(s / c + m) → DynamicQuantizeLinear, with v's → MatMulInteger → Cast → Mul(p_scale · v_scale), as
    // `tessera quantize` writes an attention's P·V.
    private static OnnxModel Attention(bool pIsOutput = false, float divisor = 5.65f)
    {
        var builder = AttentionGraph(divisor);
        if (pIsOutput) builder.Output("p", DataType.Float32);
        return builder.Build();
    }

    private static GraphBuilder AttentionGraph(float divisor) => new GraphBuilder()
        .Input("s", DataType.Float32, 2, 3, 20, 20)
        .Input("m", DataType.Float32, 2, 1, 1, 20)
        .Input("v", DataType.Float32, 2, 3, 20, 16)
        .Initializer("c", Tensor.Scalar(divisor))
        .Node("Div", ["s", "c"], ["d"], "scale")
        .Node("Add", ["d", "m"], ["a"], "mask")
        .Node("Softmax", ["a"], ["p"], "softmax", GraphBuilder.Int("axis", -1))
        .Node("DynamicQuantizeLinear", ["p"], ["pq", "ps", "pz"], "quantize_p")
        .Node("DynamicQuantizeLinear", ["v"], ["vq", "vs", "vz"], "quantize_v")
        .Node("MatMulInteger", ["pq", "vq", "pz", "vz"], ["i"], "product")
        .Node("Cast", ["i"], ["f"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
        .Node("Mul", ["ps", "vs"], ["sc"], "scales")
        .Node("Mul", ["f", "sc"], ["y"], "dequantize")
        .Output("y", DataType.Float32);
}
