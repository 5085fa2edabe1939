using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Elementwise;

/// <summary>Variadic Max/Min/Sum/Mean, Where and Clip against per-element references.</summary>
public sealed class MultiInputKernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void VariadicBroadcastsAllInputs(int degree)
    {
        int[][] shapes = [[1], [3], [40000, 1], [1, 3]];
        var inputs = shapes.Select((s, k) => BinaryBroadcastTests.Make<float>(s, 30 + k, false, false)).ToArray();
        int[] shape = [40000, 3];
        var sum = KernelHarness.Run("Sum", 13, inputs, degree).Span<float>();
        var mean = KernelHarness.Run("Mean", 13, inputs, degree).Span<float>();
        var max = KernelHarness.Run("Max", 13, inputs, degree).Span<float>();
        var min = KernelHarness.Run("Min", 13, inputs, degree).Span<float>();
        for (int i = 0; i < shape[0] * shape[1]; i++)
        {
            var values = inputs.Select((t, k) => t.Span<float>()[KernelHarness.SourceIndex(shape, shapes[k], i)]).ToArray();
            float s = values[0] + values[1] + values[2] + values[3];
            Assert.Equal(s, sum[i], 4);
            Assert.Equal(s / 4, mean[i], 4);
            Assert.Equal(values.Max(), max[i]);
            Assert.Equal(values.Min(), min[i]);
        }
    }

    [Fact]
    public void VariadicWithOneInputIsThatInput()
    {
        var x = Tensor.FromArray(new[] { 1, 2, 3 }, 3);
        Assert.Same(x, KernelHarness.Run("Max", 13, [x]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WhereBroadcastsThreeWays(int degree)
    {
        int[] cs = [1, 300, 1], xs = [200, 1, 1], ys = [300, 7];
        var random = new Random(3);
        var condition = Tensor.FromArray(Enumerable.Range(0, 300).Select(_ => random.Next(2) == 1).ToArray(), cs);
        var x = BinaryBroadcastTests.Make<long>(xs, 1, false, false);
        var y = BinaryBroadcastTests.Make<long>(ys, 2, false, false);
        var output = KernelHarness.Run("Where", 16, [condition, x, y], degree);
        int[] shape = [200, 300, 7];
        Assert.Equal(shape, output.Shape);
        var d = output.Span<long>();
        var cv = condition.Span<bool>();
        var xv = x.Span<long>();
        var yv = y.Span<long>();
        for (int i = 0; i < d.Length; i++)
        {
            bool c = cv[KernelHarness.SourceIndex(shape, cs, i)];
            long expected = c ? xv[KernelHarness.SourceIndex(shape, xs, i)] : yv[KernelHarness.SourceIndex(shape, ys, i)];
            if (expected != d[i]) Assert.Fail($"Where at {i}: {d[i]}, expected {expected}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WhereVectorizesFourByteMasks(int degree)
    {
        int[] cs = [1, 1, 37, 37], xs = [2, 30, 37, 37], ys = [];
        var random = new Random(5);
        var condition = Tensor.FromArray(Enumerable.Range(0, 37 * 37).Select(_ => random.Next(3) > 0).ToArray(), cs);
        var x = BinaryBroadcastTests.Make<float>(xs, 1, false, false);
        var y = Tensor.Scalar(-1e9f);
        foreach (var (first, second, fs, ss) in new[] { (x, y, xs, ys), (y, x, ys, xs) })
        {
            var output = KernelHarness.Run("Where", 16, [condition, first, second], degree);
            int[] shape = output.Shape;
            var d = output.Span<float>();
            var cv = condition.Span<bool>();
            for (int i = 0; i < d.Length; i++)
            {
                float expected = cv[KernelHarness.SourceIndex(shape, cs, i)]
                    ? first.Span<float>()[KernelHarness.SourceIndex(shape, fs, i)]
                    : second.Span<float>()[KernelHarness.SourceIndex(shape, ss, i)];
                if (expected != d[i]) Assert.Fail($"Where at {i}: {d[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void WhereSelectsStrings()
    {
        var condition = Tensor.FromArray(new[] { true, false }, 2);
        var output = KernelHarness.Run("Where", 16, [condition, Tensor.FromStrings(["a"], 1), Tensor.FromStrings(["b", "c"], 2)]);
        Assert.Equal(["a", "c"], output.Strings);
    }

    [Fact]
    public void ClipHandlesOptionalBoundsAndAttributes()
    {
        var x = Tensor.FromArray(new[] { -3f, -1f, 0f, 2f, 5f, float.NaN }, 6);
        Assert.Equal([-1f, -1f, 0f, 2f, 2f, float.NaN], KernelHarness.Run("Clip", 13, [x, Tensor.Scalar(-1f), Tensor.Scalar(2f)]).ToArray<float>());
        Assert.Equal([-3f, -1f, 0f, 2f, 2f, float.NaN], KernelHarness.Run("Clip", 13, [x, null, Tensor.Scalar(2f)]).ToArray<float>());
        Assert.Equal([0f, 0f, 0f, 2f, 5f, float.NaN], KernelHarness.Run("Clip", 13, [x, Tensor.Scalar(0f)]).ToArray<float>());
        Assert.Equal([-1f, -1f, 0f, 0.5f, 0.5f, float.NaN],
            KernelHarness.Run("Clip", 6, [x], 1, KernelHarness.Float("min", -1f), KernelHarness.Float("max", 0.5f)).ToArray<float>());

        // numpy.clip with min > max gives max everywhere.
        Assert.Equal([1f, 1f, 1f, 1f, 1f, float.NaN], KernelHarness.Run("Clip", 13, [x, Tensor.Scalar(3f), Tensor.Scalar(1f)]).ToArray<float>());
        var ints = Tensor.FromArray(new sbyte[] { -128, 0, 127 }, 3);
        Assert.Equal(new sbyte[] { -5, 0, 7 }, KernelHarness.Run("Clip", 13, [ints, Tensor.Scalar((sbyte)-5), Tensor.Scalar((sbyte)7)]).ToArray<sbyte>());
    }

    [Fact]
    public void ModFollowsSignRules()
    {
        var a = Tensor.FromArray(new[] { -7, 7, -7, 7, 5, int.MinValue }, 6);
        var b = Tensor.FromArray(new[] { 3, -3, -3, 3, 0, -1 }, 6);
        Assert.Equal([2, -2, -1, 1, 0, 0], KernelHarness.Run("Mod", 13, [a, b]).ToArray<int>());
        Assert.Equal([-1, 1, -1, 1, 0, 0], KernelHarness.Run("Mod", 13, [a, b], 1, KernelHarness.Int("fmod", 1)).ToArray<int>());
        var f = Tensor.FromArray(new[] { -7.5f, 7.5f }, 2);
        var g = Tensor.FromArray(new[] { 2f, -2f }, 2);
        Assert.Equal([-1.5f, 1.5f], KernelHarness.Run("Mod", 13, [f, g], 1, KernelHarness.Int("fmod", 1)).ToArray<float>());
        Assert.Equal([0.5f, -0.5f], KernelHarness.Run("Mod", 13, [f, g]).ToArray<float>());
    }

    [Fact]
    public void PowMixesTypes()
    {
        var ints = Tensor.FromArray(new[] { 2, -3, 5 }, 3);
        Assert.Equal([8, -27, 125], KernelHarness.Run("Pow", 15, [ints, Tensor.Scalar(3L)]).ToArray<int>());
        Assert.Equal([1, 9, 3], KernelHarness.Run("Pow", 15, [ints, Tensor.FromArray(new[] { 0f, 2f, 0.7f }, 3)]).ToArray<int>());
        var floats = Tensor.FromArray(new[] { 1.5f, -2f, 4f }, 3);
        Assert.Equal([2.25f, 4f, 16f], KernelHarness.Run("Pow", 15, [floats, Tensor.Scalar(2L)]).ToArray<float>());
        Assert.Equal([2.25f, 4f, 16f], KernelHarness.Run("Pow", 15, [floats, Tensor.Scalar(2f)]).ToArray<float>());
        Assert.Equal([1.5f, 4f, 64f], KernelHarness.Run("Pow", 15, [floats, Tensor.FromArray(new[] { 1u, 2u, 3u }, 3)]).ToArray<float>());
    }

    [Fact]
    public void DivisionByIntegerZeroGivesZero()
    {
        var a = Tensor.FromArray(new[] { 7L, long.MinValue, -9L }, 3);
        var b = Tensor.FromArray(new[] { 0L, -1L, 2L }, 3);
        Assert.Equal([0L, long.MinValue, -4L], KernelHarness.Run("Div", 14, [a, b]).ToArray<long>());
    }

    [Fact]
    public void LogicalOperatorsBroadcast()
    {
        var a = Tensor.FromArray(new[] { true, false, true, false }, 2, 2);
        var b = Tensor.FromArray(new[] { true, false }, 2);
        Assert.Equal([true, false, true, false], KernelHarness.Run("And", 7, [a, b]).ToArray<bool>());
        Assert.Equal([true, false, true, false], KernelHarness.Run("Or", 7, [a, b]).ToArray<bool>());
        Assert.Equal([false, false, false, false], KernelHarness.Run("Xor", 7, [a, b]).ToArray<bool>());
    }
}
