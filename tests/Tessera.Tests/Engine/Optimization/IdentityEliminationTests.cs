using Tessera.Engine.Optimization;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

public class IdentityEliminationTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(1, 2, 3) };

    [Fact]
    public void RemovesIdentityAndInferenceDropoutKeepingOutputNames()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 3)
            .Node("Identity", ["x"], ["a"])
            .Node("Relu", ["a"], ["r"])
            .Node("Dropout", ["r"], ["y", "unused_mask"])
            .Node("Neg", ["r"], ["n"])
            .Node("Identity", ["n"], ["y2"])
            .Output("y").Output("y2")
            .Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.Basic);
        Assert.Equal(["Relu", "Neg"], Ops(optimized));
        Assert.Equal("x", Single(optimized, "Relu").Inputs[0]);
        Assert.Equal("y2", Single(optimized, "Neg").Outputs[0]);
        Assert.Equal(5, model.Graph.Nodes.Count); // the caller's model is untouched
        Assert.Equal("a", model.Graph.Nodes[1].Inputs[0]);
    }

    [Fact]
    public void KeepsWhatIsNotANoOp()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 3)
            .Initializer("train", Tensor.Scalar(true))
            .Initializer("ratio", Tensor.Scalar(0f))
            .Node("Identity", ["x"], ["y"])                           // input straight to output
            .Node("Dropout", ["x", "ratio", "train"], ["d"])          // training mode
            .Node("Dropout", ["x"], ["e", "mask"])                    // mask read
            .Node("Cast", ["mask"], ["m"], "", GraphBuilder.Int("to", 1))
            .Node("Add", ["d", "e"], ["s"])
            .Node("Add", ["s", "m"], ["z"])
            .Output("y").Output("z")
            .Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.Basic);
        Assert.Equal(["Identity", "Dropout", "Dropout", "Cast", "Add", "Add"], Ops(optimized));
    }
}
