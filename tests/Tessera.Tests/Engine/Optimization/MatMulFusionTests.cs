using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

public class MatMulFusionTests
{
    [Theory]
    [InlineData(new[] { 5 }, false)]
    [InlineData(new[] { 1, 5 }, true)]
    [InlineData(new[] { 4, 5 }, false)]
    [InlineData(new[] { 4, 1 }, true)]
    public void MatMulPlusBroadcastableBiasOfTwoDimensionalInputsBecomesGemm(int[] biasShape, bool biasFirst)
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 4, 8)
            .Initializer("w", Random(2, 8, 5))
            .Initializer("b", Random(3, biasShape))
            .Node("MatMul", ["x", "w"], ["m"])
            .Node("Add", biasFirst ? ["b", "m"] : ["m", "b"], ["y"])
            .Output("y")
            .Build(13);
        var optimized = Check(model, new() { ["x"] = Random(1, 4, 8) }, GraphOptimizationLevel.Basic);
        var gemm = Single(optimized, "Gemm");
        Assert.Equal(["x", "w", "b"], gemm.Inputs);
        Assert.Equal(["Gemm"], Ops(optimized));
    }

    [Fact]
    public void ThreeDimensionalInputsGetFusedMatMulWithBias()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 3, 8)
            .Initializer("w", Random(2, 8, 5))
            .Initializer("b", Random(3, 1, 1, 5))
            .Node("MatMul", ["x", "w"], ["m"])
            .Node("Add", ["b", "m"], ["y"])
            .Output("y")
            .Build(13);
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(1, 2, 3, 8) };
        Assert.Equal(["MatMul", "Add"], Ops(Check(model, feeds, GraphOptimizationLevel.Basic)));

        var optimized = Check(model, feeds, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        var fused = Single(optimized, "FusedMatMul");
        Assert.Equal(TesseraDomain.Name, fused.Domain);
        Assert.Equal(3, fused.Inputs.Count);
        Assert.Equal([5], optimized.Graph.Initializers[fused.Inputs[2]].Shape);
        Assert.Equal(TesseraDomain.Version, optimized.OpsetImports[TesseraDomain.Name]);
    }

    [Fact]
    public void BiasOverAnotherAxisIsLeftAlone()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 5, 8)
            .Initializer("w", Random(2, 8, 5))
            .Initializer("b", Random(3, 5, 1))
            .Node("MatMul", ["x", "w"], ["m"])
            .Node("Add", ["m", "b"], ["y"])
            .Output("y")
            .Build(13);
        var optimized = Check(model, new() { ["x"] = Random(1, 2, 5, 8) }, GraphOptimizationLevel.All, ReferenceFusedKernels.Registry());
        Assert.Equal(["MatMul", "Add"], Ops(optimized));
    }
}
