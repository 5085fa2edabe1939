using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>conv-add-fusion: a residual Add (and a following Relu) folded into FusedConv's "sum" input, outputs unchanged.</summary>
public class ConvAddFusionTests
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
}
