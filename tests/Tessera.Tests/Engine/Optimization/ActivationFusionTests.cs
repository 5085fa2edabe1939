using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

public class ActivationFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(1, 1, 3, 6, 5) };

    private static GraphBuilder Conv() => new GraphBuilder()
        .Input("x", DataType.Float32, 1, 3, 6, 5)
        .Initializer("w", Random(2, 4, 3, 3, 3))
        .Initializer("b", Random(3, 4))
        .Initializer("lo", Tensor.Scalar(-0.5f))
        .Initializer("hi", Tensor.Scalar(0.75f))
        .Node("Conv", ["x", "w", "b"], ["c"], "conv");

    public static TheoryData<string, string, float[]> Activations() => new()
    {
        { "Relu", "Relu", [] },
        { "LeakyRelu", "LeakyRelu", [0.2f] },
        { "Clip", "Clip", [-0.5f, 0.75f] },
        { "ClipMinOnly", "Clip", [-0.5f, float.PositiveInfinity] },
        { "HardSigmoid", "HardSigmoid", [0.3f, 0.4f] },
        { "HardSwish", "HardSwish", [] },
        { "Sigmoid", "Sigmoid", [] },
        { "Tanh", "Tanh", [] },
    };

    [Theory]
    [MemberData(nameof(Activations))]
    public void ConvFollowedByAnActivationBecomesFusedConv(string form, string activation, float[] parameters)
    {
        var builder = Conv();
        _ = form switch
        {
            "LeakyRelu" => builder.Node("LeakyRelu", ["c"], ["y"], "act", GraphBuilder.Float("alpha", 0.2f)),
            "Clip" => builder.Node("Clip", ["c", "lo", "hi"], ["y"], "act"),
            "ClipMinOnly" => builder.Node("Clip", ["c", "lo"], ["y"], "act"),
            "HardSigmoid" => builder.Node("HardSigmoid", ["c"], ["y"], "act", GraphBuilder.Float("alpha", 0.3f), GraphBuilder.Float("beta", 0.4f)),
            _ => builder.Node(form, ["c"], ["y"], "act"),
        };
        var optimized = Check(builder.Output("y").Build(14), Feeds, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        var fused = Single(optimized, "FusedConv");
        Assert.Equal(["FusedConv"], Ops(optimized));
        Assert.Equal(TesseraDomain.Name, fused.Domain);
        Assert.Equal(activation, fused.Attributes["activation"].String);
        Assert.Equal(parameters, fused.Attributes.GetValueOrDefault("activation_params")?.Floats ?? []);
        Assert.Equal([1, 1, 1, 1], fused.Attributes.GetValueOrDefault("pads")?.Ints ?? [1, 1, 1, 1]);
    }

    [Fact]
    public void ClipBoundsAsAttributesBeforeOpset11()
    {
        var model = Conv().Node("Clip", ["c"], ["y"], "act", GraphBuilder.Float("min", 0f), GraphBuilder.Float("max", 6f)).Output("y").Build(9);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        Assert.Equal([0f, 6f], Single(optimized, "FusedConv").Attributes["activation_params"].Floats);
    }

    [Fact]
    public void GemmAndBiasedMatMulTakeTheActivationToo()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 3, 8)
            .Input("v", DataType.Float32, 4, 8)
            .Initializer("w", Random(2, 8, 5))
            .Initializer("b", Random(3, 5))
            .Initializer("wt", Random(4, 6, 8))
            .Node("MatMul", ["x", "w"], ["m"])
            .Node("Add", ["m", "b"], ["mb"])
            .Node("Relu", ["mb"], ["y"])
            .Node("Gemm", ["v", "wt"], ["g"], "gemm", GraphBuilder.Int("transB", 1))
            .Node("Tanh", ["g"], ["z"])
            .Output("y").Output("z")
            .Build(13);
        var optimized = Check(model, new() { ["x"] = Random(1, 2, 3, 8), ["v"] = Random(5, 4, 8) }, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        Assert.Equal(["FusedMatMul", "FusedGemm"], Ops(optimized));
        Assert.Equal("Relu", Single(optimized, "FusedMatMul").Attributes["activation"].String);
        var gemm = Single(optimized, "FusedGemm");
        Assert.Equal("Tanh", gemm.Attributes["activation"].String);
        Assert.Equal(1, gemm.Attributes["transB"].Int);
    }

    [Fact]
    public void KeepsThePreActivationValueWhenSomethingElseReadsIt()
    {
        var model = Conv().Node("Relu", ["c"], ["y"]).Output("y").Output("c").Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        Assert.Equal(["Conv", "Relu"], Ops(optimized));
    }

    [Fact]
    public void SkipsActivationsTheFusedKernelRejects()
    {
        var registry = ReferenceFusedKernels.Restricted(a => a == "Relu");
        var model = Conv().Node("Sigmoid", ["c"], ["s"]).Node("Conv", ["s", "w2"], ["c2"]).Node("Relu", ["c2"], ["y"])
            .Initializer("w2", Random(7, 2, 4, 1, 1)).Output("y").Build(13);
        var optimized = Check(model, Feeds, GraphOptimizationLevel.All, registry);
        Assert.Equal(["Conv", "Sigmoid", "FusedConv"], Ops(optimized));
    }

    [Fact]
    public void SkipsWhenNoFusedKernelIsRegistered()
    {
        var registry = new KernelRegistry();
        Tessera.Kernels.Elementwise.ElementwiseKernels.Register(registry);
        Tessera.Kernels.Convolution.ConvolutionKernels.Register(registry);
        if (registry.Supports(TesseraDomain.Name, "FusedConv", 1)) return; // the convolution family registers it itself
        var optimized = Check(Conv().Node("Relu", ["c"], ["y"]).Output("y").Build(13), Feeds, GraphOptimizationLevel.All, registry);
        Assert.Equal(["Conv", "Relu"], Ops(optimized));
        Assert.False(optimized.OpsetImports.ContainsKey(TesseraDomain.Name));
    }

    [Fact]
    public void NodesOfOtherDomainsAreNotActivations()
    {
        var node = new OnnxNode { OpType = "Relu", Domain = "com.example" };
        node.Inputs.Add("c");
        node.Outputs.Add("y");
        var model = Conv().Output("y").Build(13);
        model.Graph.Nodes.Add(node);
        var optimized = GraphOptimizer.Optimize(model, new Tessera.Engine.SessionOptions { Registry = ReferenceFusedKernels.Registry() });
        Assert.Equal(["Conv", "Relu"], Ops(optimized));
    }
}
