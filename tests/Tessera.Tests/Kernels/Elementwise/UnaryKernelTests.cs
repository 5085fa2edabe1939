using Tessera.Kernels.Elementwise;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Elementwise;

/// <summary>Unary kernels (SIMD and TensorPrimitives paths, split over threads) against plain double references.</summary>
public sealed class UnaryKernelTests
{
    private static readonly int[] Lengths = [0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 65, 1000, 70001];

    public static TheoryData<string, int> Operators()
    {
        var data = new TheoryData<string, int>();
        foreach (string op in References.Keys)
        {
            data.Add(op, 1);
            data.Add(op, 2);
        }

        return data;
    }

    private static readonly Dictionary<string, (Func<double, double> Reference, NodeAttribute[] Attributes)> References = new()
    {
        ["Exp"] = (Math.Exp, []),
        ["Log"] = (Math.Log, []),
        ["Sqrt"] = (Math.Sqrt, []),
        ["Sin"] = (Math.Sin, []),
        ["Cos"] = (Math.Cos, []),
        ["Tanh"] = (Math.Tanh, []),
        ["Sigmoid"] = (x => 1 / (1 + Math.Exp(-x)), []),
        ["Erf"] = (ErfMath.Erf, []),
        ["Ceil"] = (Math.Ceiling, []),
        ["Floor"] = (Math.Floor, []),
        ["Round"] = (x => Math.Round(x, MidpointRounding.ToEven), []),
        ["Reciprocal"] = (x => 1 / x, []),
        ["Softplus"] = (x => Math.Log(1 + Math.Exp(x)), []),
        ["HardSwish"] = (x => x * Math.Clamp(x / 6 + 0.5, 0, 1), []),
        ["Elu"] = (x => x < 0 ? 0.7f * (Math.Exp(x) - 1) : x, [KernelHarness.Float("alpha", 0.7f)]),
        ["LeakyRelu"] = (x => x < 0 ? 0.1f * x : x, [KernelHarness.Float("alpha", 0.1f)]),
        ["HardSigmoid"] = (x => Math.Clamp(0.3f * x + 0.4f, 0, 1), [KernelHarness.Float("alpha", 0.3f), KernelHarness.Float("beta", 0.4f)]),
        ["Relu"] = (x => Math.Max(x, 0), []),
        ["Abs"] = (Math.Abs, []),
        ["Neg"] = (x => -x, []),
        ["Sign"] = (x => Math.Sign(x), []),
    };

    [Theory]
    [MemberData(nameof(Operators))]
    public void FloatMatchesReference(string op, int degree)
    {
        var (reference, attributes) = References[op];
        foreach (int n in Lengths)
        {
            var data = KernelHarness.RandomFloats(n, n + op.Length, op is "Exp" or "Softplus" ? 20f : 4f);
            var y = KernelHarness.Run(op, 17, [Tensor.FromArray(data, n)], degree, attributes).Span<float>();
            for (int i = 0; i < n; i++)
            {
                double expected = (float)reference(data[i]);
                double tolerance = op == "Erf" ? 1.2e-7 : 2e-6 * Math.Abs(expected) + 1e-7;
                if (!(y[i] == expected || Math.Abs(y[i] - expected) <= tolerance || (double.IsNaN(y[i]) && double.IsNaN(expected))))
                    Assert.Fail($"{op}({data[i]:R}) = {y[i]:R}, expected {expected:R} (n={n})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Operators))]
    public void DoubleAndHalfMatchReference(string op, int degree)
    {
        var (reference, attributes) = References[op];
        var data = KernelHarness.RandomFloats(1001, 5, 3f);
        var doubles = KernelHarness.Run(op, 17, [Tensor.FromArray(data.Select(v => (double)v).ToArray(), data.Length)], degree, attributes).Span<double>();
        var halves = KernelHarness.Run(op, 17, [Tensor.FromArray(data.Select(v => (Half)v).ToArray(), data.Length)], degree, attributes).Span<Half>();
        for (int i = 0; i < data.Length; i++)
        {
            double expected = reference(data[i]);
            Assert.True(doubles[i] == expected || Math.Abs(doubles[i] - expected) <= 1e-12 * Math.Abs(expected) + 1e-14 || double.IsNaN(expected),
                $"{op}<double>({data[i]:R}) = {doubles[i]:R}, expected {expected:R}");
            double halfExpected = reference((double)(Half)data[i]);
            Assert.True((double)halves[i] == halfExpected || Math.Abs((double)halves[i] - halfExpected) <= 2e-3 * Math.Abs(halfExpected) + 1e-3 || double.IsNaN(halfExpected),
                $"{op}<Half>({data[i]:R}) = {halves[i]}, expected {halfExpected:R}");
        }
    }

    [Fact]
    public void ErfIsAccurate()
    {
        (double X, double Erf)[] known = [(0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1, 0.8427007929497149),
            (-1.5, -0.9661051464753108), (2, 0.9953222650189527), (3, 0.9999779095030014), (5, 0.9999999999984626)];
        foreach (var (x, erf) in known)
        {
            Assert.True(Math.Abs(ErfMath.Erf(x) - erf) < 1e-15, $"double erf({x})");
            Assert.True(Math.Abs(ErfMath.Erf((float)x) - erf) < 1e-7, $"float erf({x})");
        }

        var grid = Enumerable.Range(-6000, 12001).Select(i => i / 1000f).ToArray();
        var fast = new float[grid.Length];
        ErfMath.Erf(grid, fast);
        for (int i = 0; i < grid.Length; i++)
        {
            Assert.True(Math.Abs(fast[i] - ErfMath.Erf((double)grid[i])) < 1e-7, $"erf({grid[i]}) = {fast[i]}");
            Assert.Equal(ErfMath.Erf(grid[i]), fast[i]);
        }

        Assert.True(float.IsNaN(ErfMath.Erf(float.NaN)));
    }

    [Fact]
    public void IntegerUnaryOperatorsWrapLikeNumpy()
    {
        var x = Tensor.FromArray(new sbyte[] { -128, -3, 0, 5, 127 }, 5);
        Assert.Equal(new sbyte[] { -128, 3, 0, 5, 127 }, KernelHarness.Run("Abs", 13, [x]).ToArray<sbyte>());
        Assert.Equal(new sbyte[] { -128, 3, 0, -5, -127 }, KernelHarness.Run("Neg", 13, [x]).ToArray<sbyte>());
        Assert.Equal(new sbyte[] { 0, 0, 0, 5, 127 }, KernelHarness.Run("Relu", 14, [x]).ToArray<sbyte>());
        Assert.Equal(new sbyte[] { -1, -1, 0, 1, 1 }, KernelHarness.Run("Sign", 13, [x]).ToArray<sbyte>());
    }

    [Fact]
    public void BFloat16ComputesThroughFloat()
    {
        var x = Tensor.FromArray(new[] { BFloat16.FromSingle(-1.5f), BFloat16.FromSingle(0.25f), BFloat16.FromSingle(2f) }, 3);
        var y = KernelHarness.Run("Relu", 14, [x]).Span<BFloat16>();
        Assert.Equal([0f, 0.25f, 2f], y.ToArray().Select(v => v.ToSingle()));
    }

    [Fact]
    public void NotAndIdentity()
    {
        var x = Tensor.FromArray(new[] { true, false, true }, 3);
        Assert.Equal(new[] { false, true, false }, KernelHarness.Run("Not", 1, [x]).ToArray<bool>());
        Assert.Same(x, KernelHarness.Run("Identity", 16, [x]));
    }
}
