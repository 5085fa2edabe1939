using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>GELU, LayerNorm and HardSwish written out in elementary operators, as exporters do, fuse into one node.</summary>
public class PatternFusionTests
{
    private static Dictionary<string, Tensor> Feeds => new() { ["x"] = Random(1, 2, 3, 8) };

    private static GraphBuilder Input() => new GraphBuilder().Input("x", DataType.Float32, 2, 3, 8)
        .Initializer("half", Tensor.Scalar(0.5f)).Initializer("one", Tensor.Scalar(1f)).Initializer("sqrt2", Tensor.Scalar(MathF.Sqrt(2)))
        .Initializer("invSqrt2", Tensor.FromArray(new[] { 1 / MathF.Sqrt(2) }, 1)).Initializer("k", Tensor.Scalar(MathF.Sqrt(2 / MathF.PI)))
        .Initializer("c", Tensor.Scalar(0.044715f)).Initializer("three", Tensor.Scalar(3f));

    [Theory]
    [InlineData("bert")]
    [InlineData("halfFirst")]
    [InlineData("tanhProducts")]
    [InlineData("tanhPow")]
    public void GeluInItsExporterSpellings(string form)
    {
        var b = Input();
        if (form == "bert")
        {
            // x·(1 + erf(x/√2))·0.5, as PyTorch exports nn.GELU()
            b.Node("Div", ["x", "sqrt2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["p"])
                .Node("Mul", ["x", "p"], ["xp"]).Node("Mul", ["xp", "half"], ["y"]);
        }
        else if (form == "halfFirst")
        {
            b.Node("Mul", ["x", "half"], ["hx"]).Node("Mul", ["x", "invSqrt2"], ["d"]).Node("Erf", ["d"], ["e"])
                .Node("Add", ["one", "e"], ["p"]).Node("Mul", ["p", "hx"], ["y"]);
        }
        else
        {
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as GPT-2 style code is exported
            if (form == "tanhPow") b.Node("Pow", ["x", "three"], ["x3"]);
            else b.Node("Mul", ["x", "x"], ["x2"]).Node("Mul", ["x", "x2"], ["x3"]);
            b.Node("Mul", ["c", "x3"], ["cx3"]).Node("Add", ["x", "cx3"], ["inner"]).Node("Mul", ["k", "inner"], ["arg"])
                .Node("Tanh", ["arg"], ["t"]).Node("Add", ["one", "t"], ["p"]).Node("Mul", ["x", "p"], ["xp"]).Node("Mul", ["half", "xp"], ["y"]);
        }

        var optimized = Check(b.Output("y").Build(13), Feeds);
        var gelu = Single(optimized, "Gelu");
        Assert.Equal(["Gelu"], Ops(optimized));
        Assert.Equal(TesseraDomain.Name, gelu.Domain);
        Assert.Equal(form.StartsWith("tanh", StringComparison.Ordinal) ? "tanh" : "none", gelu.Attributes["approximate"].String);
        Assert.Equal(["x"], gelu.Inputs);
    }

    [Fact]
    public void GeluWhosePartsAreReadElsewhereIsLeftAlone()
    {
        var model = Input().Node("Div", ["x", "sqrt2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["p"])
            .Node("Mul", ["x", "p"], ["xp"]).Node("Mul", ["xp", "half"], ["y"]).Output("y").Output("e").Build(13);
        Assert.DoesNotContain("Gelu", Ops(Check(model, Feeds)));
    }

    [Fact]
    public void GeluAtOpset20IsTheStandardOperator()
    {
        var model = Input().Node("Div", ["x", "sqrt2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["p"])
            .Node("Mul", ["x", "p"], ["xp"]).Node("Mul", ["xp", "half"], ["y"]).Output("y").Build(20);
        Assert.Equal(string.Empty, Single(Check(model, Feeds), "Gelu").Domain);
    }

    [Theory]
    [InlineData(15, "pow")]
    [InlineData(15, "mul")]
    [InlineData(17, "pow")]
    public void LayerNormOverTheLastAxis(int opset, string square)
    {
        var b = Input().Initializer("gamma", Random(2, 8)).Initializer("beta", Random(3, 8))
            .Initializer("two", Tensor.Scalar(2f)).Initializer("eps", Tensor.Scalar(1e-5f))
            .Node("ReduceMean", ["x"], ["mean"], "", GraphBuilder.Ints("axes", -1))
            .Node("Sub", ["x", "mean"], ["d"]);
        if (square == "pow") b.Node("Pow", ["d", "two"], ["d2"]);
        else b.Node("Mul", ["d", "d"], ["d2"]);
        b.Node("ReduceMean", ["d2"], ["var"], "", GraphBuilder.Ints("axes", 2)).Node("Add", ["var", "eps"], ["ve"])
            .Node("Sqrt", ["ve"], ["std"]).Node("Div", ["d", "std"], ["n"]).Node("Mul", ["n", "gamma"], ["g"]).Node("Add", ["beta", "g"], ["y"]);
        var optimized = Check(b.Output("y").Build(opset), Feeds);
        var norm = Single(optimized, "LayerNormalization");
        Assert.Equal(["LayerNormalization"], Ops(optimized));
        Assert.Equal(opset >= 17 ? string.Empty : TesseraDomain.Name, norm.Domain);
        Assert.Equal(["x", "gamma", "beta"], norm.Inputs);
        Assert.Equal(1e-5f, norm.Attributes["epsilon"].Float);
    }

    [Fact]
    public void NormalizationOverAnotherAxisIsLeftAlone()
    {
        var model = Input().Initializer("gamma", Random(2, 8)).Initializer("beta", Random(3, 8))
            .Initializer("two", Tensor.Scalar(2f)).Initializer("eps", Tensor.Scalar(1e-5f))
            .Node("ReduceMean", ["x"], ["mean"], "", GraphBuilder.Ints("axes", 1)).Node("Sub", ["x", "mean"], ["d"])
            .Node("Pow", ["d", "two"], ["d2"]).Node("ReduceMean", ["d2"], ["var"], "", GraphBuilder.Ints("axes", 1))
            .Node("Add", ["var", "eps"], ["ve"]).Node("Sqrt", ["ve"], ["std"]).Node("Div", ["d", "std"], ["n"])
            .Node("Mul", ["n", "gamma"], ["g"]).Node("Add", ["g", "beta"], ["y"]).Output("y").Build(15);
        Assert.DoesNotContain("LayerNormalization", Ops(Check(model, Feeds)));
    }

    [Theory]
    [InlineData(11, "paddle")]
    [InlineData(14, "paddle")]
    [InlineData(14, "hardsigmoid")]
    public void HardSwishSpelledOut(int opset, string form)
    {
        var b = Input().Initializer("zero", Tensor.Scalar(0f)).Initializer("six", Tensor.Scalar(6f));
        if (form == "paddle")
        {
            // x·Clip(x + 3, 0, 6) / 6, as paddle2onnx writes hard_swish
            b.Node("Add", ["x", "three"], ["x3"]).Node("Clip", ["x3", "zero", "six"], ["r6"]).Node("Mul", ["x", "r6"], ["m"]).Node("Div", ["m", "six"], ["y"]);
        }
        else
        {
            b.Node("HardSigmoid", ["x"], ["h"], "", GraphBuilder.Float("alpha", 1 / 6f)).Node("Mul", ["h", "x"], ["y"]);
        }

        var optimized = Check(b.Output("y").Build(opset), Feeds);
        Assert.Equal(["HardSwish"], Ops(optimized));
        Assert.Equal(opset >= 14 ? string.Empty : TesseraDomain.Name, Single(optimized, "HardSwish").Domain);
    }

    [Fact]
    public void HardSigmoidWithOtherSlopeIsNotHardSwish()
    {
        var model = Input().Node("HardSigmoid", ["x"], ["h"]).Node("Mul", ["h", "x"], ["y"]).Output("y").Build(14);
        Assert.Equal(["HardSigmoid", "Mul"], Ops(Check(model, Feeds)));
    }
}
