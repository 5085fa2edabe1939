using Tessera.Engine.Optimization;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

public class ConvAffineFoldingTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(1, 2, 3, 7, 6) };

    private static Tensor Positive(int seed, int n) => Tensor.FromArray(RandomFloats(n, seed).Select(v => Math.Abs(v) + 0.1f).ToArray(), n);

    private static GraphBuilder Conv(bool bias) => new GraphBuilder()
        .Input("x", DataType.Float32, 2, 3, 7, 6)
        .Initializer("w", Random(2, 4, 3, 3, 3))
        .Initializer("b", Random(3, 4))
        .Node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["c"], "conv", GraphBuilder.Ints("pads", 1, 1, 1, 1));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FoldsBatchNormalization(bool bias)
    {
        var model = Conv(bias)
            .Initializer("scale", Random(4, 4)).Initializer("shift", Random(5, 4))
            .Initializer("mean", Random(6, 4)).Initializer("var", Positive(7, 4))
            .Node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["y"], "bn", GraphBuilder.Float("epsilon", 1e-3f))
            .Output("y")
            .Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.Basic);
        var conv = Single(optimized, "Conv");
        Assert.Equal(["Conv"], Ops(optimized));
        Assert.Equal("y", conv.Outputs[0]);
        Assert.Equal(3, conv.Inputs.Count);
        Assert.Equal(2, optimized.Graph.Initializers.Count); // W' and B'; the originals are no longer read
        Assert.Equal(6, model.Graph.Initializers.Count);
    }

    [Fact]
    public void FoldsPerChannelMulAndAddIncludingConstantNodes()
    {
        var model = Conv(bias: false)
            .Node("Mul", ["c", "s"], ["m"])
            .Node("Add", ["t", "m"], ["a"])
            .Node("Add", ["a", "u"], ["y"])
            .Output("y")
            .Build(13);
        WithConstantNode(model, "s", Tensor.FromArray(RandomFloats(4, 8), 4, 1, 1));
        WithConstantNode(model, "t", Tensor.FromArray(RandomFloats(4, 9), 1, 4, 1, 1));
        WithConstantNode(model, "u", Tensor.FromArray(new[] { 0.25f }, 1));
        var optimized = Check(model, Feeds, GraphOptimizationLevel.Basic);
        Assert.Equal(["Conv"], Ops(optimized));
        Assert.DoesNotContain(optimized.Graph.Nodes, n => n.OpType == "Constant");
    }

    [Fact]
    public void LeavesAffineMapsThatAreNotPerChannel()
    {
        var model = Conv(bias: true)
            .Initializer("row", Tensor.FromArray(RandomFloats(6, 10), 6)) // broadcasts along the width
            .Node("Mul", ["c", "row"], ["m"])
            .Node("Add", ["m", "x2"], ["y"])
            .Input("x2", DataType.Float32, 2, 4, 7, 6)
            .Output("y")
            .Build(13);
        var feeds = Feeds;
        feeds["x2"] = Random(11, 2, 4, 7, 6);
        var optimized = Check(model, feeds, GraphOptimizationLevel.Basic);
        Assert.Equal(["Conv", "Mul", "Add"], Ops(optimized));
    }

    [Fact]
    public void LeavesAConvWhoseOutputIsAlsoReadElsewhere()
    {
        var model = Conv(bias: true)
            .Initializer("s", Tensor.FromArray(RandomFloats(4, 8), 4, 1, 1))
            .Node("Mul", ["c", "s"], ["y"])
            .Output("y").Output("c")
            .Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.Basic);
        Assert.Equal(["Conv", "Mul"], Ops(optimized));
    }
}
