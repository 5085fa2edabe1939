using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>Softmax(Add(Div(S, c) | Mul(S, c), M)) and its forms without mask or scale fuse into FusedScaleMaskSoftmax; the rest stays.</summary>
public class ScaleMaskSoftmaxFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["s"] = Random(1, 2, 3, 5, 5), ["m"] = Random(2, 2, 1, 1, 5) };

    private static GraphBuilder Input() => new GraphBuilder().Input("s", DataType.Float32, 2, 3, 5, 5).Input("m", DataType.Float32, 2, 1, 1, 5)
        .Initializer("c", Tensor.Scalar(8f)).Initializer("k", Tensor.FromArray(new[] { 0.125f }, 1)).Initializer("w", Random(3, 5));

    [Theory]
    [InlineData("div-mask", 0.125f, true)]
    [InlineData("mul-mask", 0.125f, true)]
    [InlineData("mask-mul", 0.125f, true)]
    [InlineData("div", 0.125f, false)]
    [InlineData("mask", 1f, true)]
    public void AttentionScoresFuse(string form, float scale, bool masked)
    {
        var b = Input();
        string scaled = "s";
        if (form.StartsWith("div", StringComparison.Ordinal)) b.Node("Div", ["s", "c"], [scaled = "d"]);
        else if (form.Contains("mul", StringComparison.Ordinal)) b.Node("Mul", form == "mask-mul" ? ["k", "s"] : ["s", "k"], [scaled = "d"]);
        string scores = scaled;
        if (masked) b.Node("Add", form == "mask-mul" ? ["m", scaled] : [scaled, "m"], [scores = "a"]);
        var model = b.Node("Softmax", [scores], ["y"], "", GraphBuilder.Int("axis", -1)).Output("y").Build(13);

        var optimized = Check(model, Feeds);
        Assert.Equal(["FusedScaleMaskSoftmax"], Ops(optimized));
        var fused = Single(optimized, "FusedScaleMaskSoftmax");
        Assert.Equal(TesseraDomain.Name, fused.Domain);
        Assert.Equal(masked ? ["s", "m"] : ["s"], fused.Inputs);
        Assert.Equal(scale, fused.Attributes["scale"].Float, 6);
    }

    [Fact]
    public void SharedMaskMulIsTheMaskNotTheScores()
    {
        // BERT: the mask is Mul(1 - mask, -10000) read by every layer; the scores' own Div takes the scale.
        var model = Input().Initializer("big", Tensor.Scalar(-10000f)).Node("Mul", ["m", "big"], ["mm"])
            .Node("Div", ["s", "c"], ["d"]).Node("Add", ["d", "mm"], ["a"]).Node("Softmax", ["a"], ["y"])
            .Node("Add", ["s", "mm"], ["z"]).Output("y").Output("z").Build(13);
        var fused = Single(Check(model, Feeds), "FusedScaleMaskSoftmax");
        Assert.Equal(["s", "mm"], fused.Inputs);
    }

    /// <summary>A decoder's causal Softmax(Where(keep, Div(S, c), lowest)): the [s, s] additive mask Where(keep, 0, lowest) is the fused node's M.</summary>
    [Theory]
    [InlineData(-3.4028235e38f)]
    [InlineData(float.NegativeInfinity)]
    public void CausalWhereFusesWithAnAdditiveMask(float lowest)
    {
        var keep = new bool[25];
        for (int i = 0; i < 5; i++) for (int j = 0; j <= i; j++) keep[(i * 5) + j] = true;
        var model = Input().Initializer("keep", Tensor.FromArray(keep, 1, 1, 5, 5)).Initializer("lowest", Tensor.Scalar(lowest))
            .Node("Div", ["s", "c"], ["d"]).Node("Where", ["keep", "d", "lowest"], ["wh"]).Node("Softmax", ["wh"], ["y"], "", GraphBuilder.Int("axis", -1))
            .Output("y").Build(13);

        var optimized = Check(model, Feeds);
        var fused = Single(optimized, "FusedScaleMaskSoftmax");
        Assert.Equal("s", fused.Inputs[0]);
        Assert.Equal(0.125f, fused.Attributes["scale"].Float, 6);
        Assert.Equal(["Where", "FusedScaleMaskSoftmax"], Ops(optimized));
        var mask = Single(optimized, "Where");
        Assert.Equal(fused.Inputs[1], mask.Outputs[0]);
        Assert.Equal("keep", mask.Inputs[0]);
        Assert.Equal(0f, optimized.Graph.Initializers[mask.Inputs[1]].ToArray<float>().Single());
    }

    [Theory]
    [InlineData("minus-10000")]
    [InlineData("fill-not-constant")]
    [InlineData("where-read-elsewhere")]
    public void WheresThatAreNotMasksStay(string form)
    {
        var b = Input().Input("keep", DataType.Bool, 1, 1, 5, 5).Initializer("lowest", Tensor.Scalar(form == "minus-10000" ? -10000f : -3.4028235e38f))
            .Node("Div", ["s", "c"], ["d"]);
        var feeds = Feeds;
        feeds["keep"] = Tensor.FromArray(Enumerable.Range(0, 25).Select(i => i % 5 <= i / 5).ToArray(), 1, 1, 5, 5);
        b.Node("Where", ["keep", "d", form == "fill-not-constant" ? "m" : "lowest"], ["wh"]).Node("Softmax", ["wh"], ["y"]).Output("y");
        if (form == "where-read-elsewhere") b.Output("wh");

        var optimized = Check(b.Build(13), feeds);
        Assert.DoesNotContain("FusedScaleMaskSoftmax", Ops(optimized));
        Assert.Contains("Softmax", Ops(optimized));
    }

    [Theory]
    [InlineData("intermediate-output")]
    [InlineData("intermediate-read")]
    [InlineData("axis")]
    [InlineData("opset11-axis1")]
    [InlineData("not-scalar")]
    [InlineData("softmax-alone")]
    [InlineData("double")]
    public void OtherFormsStay(string form)
    {
        var b = Input();
        var feeds = Feeds;
        string softmaxAxis = form == "axis" ? "2" : "-1";
        if (form == "double")
        {
            b = new GraphBuilder().Input("s", DataType.Float64, 2, 3, 5, 5).Initializer("c", Tensor.Scalar(8.0));
            feeds = new() { ["s"] = Tensor.FromArray(RandomFloats(150, 1).Select(v => (double)v).ToArray(), 2, 3, 5, 5) };
            b.Node("Div", ["s", "c"], ["d"]).Node("Softmax", ["d"], ["y"]).Output("y");
            Assert.DoesNotContain("FusedScaleMaskSoftmax", Ops(GraphOptimizerRun(b.Build(13), feeds)));
            return;
        }

        if (form == "softmax-alone") b.Node("Softmax", ["s"], ["y"]).Output("y");
        else if (form == "not-scalar") b.Node("Div", ["s", "w"], ["d"]).Node("Softmax", ["d"], ["y"]).Output("y");
        else
        {
            b.Node("Div", ["s", "c"], ["d"]).Node("Add", ["d", "m"], ["a"]);
            if (form == "opset11-axis1") b.Node("Softmax", ["a"], ["y"], "", GraphBuilder.Int("axis", 1));
            else b.Node("Softmax", ["a"], ["y"], "", GraphBuilder.Int("axis", long.Parse(softmaxAxis, System.Globalization.CultureInfo.InvariantCulture)));
            b.Output("y");
            if (form == "intermediate-output") b.Output("d");
            if (form == "intermediate-read") b.Node("Neg", ["a"], ["n"]).Output("n");
        }

        var optimized = Check(b.Build(form == "opset11-axis1" ? 11 : 13), feeds);
        Assert.DoesNotContain("FusedScaleMaskSoftmax", Ops(optimized));
        Assert.Contains("Softmax", Ops(optimized));
    }

    private static Tessera.Onnx.Graph.OnnxModel GraphOptimizerRun(Tessera.Onnx.Graph.OnnxModel model, Dictionary<string, Tensor> feeds)
    {
        var optimized = Tessera.Engine.Optimization.GraphOptimizer.Optimize(model, new Tessera.Engine.SessionOptions());
        _ = new Tessera.Engine.InferenceSession(model, new Tessera.Engine.SessionOptions()).Run(feeds);
        return optimized;
    }
}
