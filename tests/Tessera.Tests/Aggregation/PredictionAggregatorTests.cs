using Tessera.Serving.Aggregation;
using Tessera.Tensors;

namespace Tessera.Tests.Aggregation;

/// <summary>Each aggregation against hand-checked cases and a plain scalar reference written out in the test.</summary>
public sealed class PredictionAggregatorTests
{
    private static readonly AggregationSpec s_mean = new() { Kind = AggregationKind.Mean };

    private static Tensor Aggregate(AggregationSpec spec, params Tensor[] members) => PredictionAggregator.Aggregate(spec, members);

    [Fact]
    public void MeanOfThreeSoftmaxOutputsIsTheHandComputedAverage()
    {
        // Three classifiers' probabilities for two samples; the averages below are worked out by hand.
        var a = Tensor.FromArray(new[] { 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f }, 2, 3);
        var b = Tensor.FromArray(new[] { 0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f }, 2, 3);
        var c = Tensor.FromArray(new[] { 0.2f, 0.5f, 0.3f, 0.3f, 0.6f, 0.1f }, 2, 3);
        var mean = Aggregate(s_mean, a, b, c);
        Assert.Equal([2, 3], mean.Shape);
        float[] expected = [0.5f, 1f / 3, 1f / 6, 0.2f, 0.4f, 0.4f];
        float[] actual = mean.ToArray<float>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 6);

        // Each row still sums to 1, and the ensemble picks class 0 for the first sample where member c alone picks 1.
        Assert.Equal(1f, actual[0] + actual[1] + actual[2], 6);
        Assert.Equal(1f, actual[3] + actual[4] + actual[5], 6);
    }

    [Theory]
    [InlineData(DataType.Float32)]
    [InlineData(DataType.Float64)]
    [InlineData(DataType.Float16)]
    [InlineData(DataType.BFloat16)]
    public void MeanAndWeightedMeanMatchTheScalarReference(DataType type)
    {
        var random = new Random(7);
        foreach (int n in new[] { 1, 2, 3, 5 })
        {
            foreach (int[] shape in new[] { new int[0], [1], [4, 7], [2, 3, 5] })
            {
                var members = Enumerable.Range(0, n).Select(_ => RandomFloats(type, shape, random)).ToArray();
                double[][] values = [.. members.Select(ToDoubles)];
                double[] raw = [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() * 3)];

                var mean = Aggregate(s_mean, members);
                var weighted = Aggregate(new AggregationSpec { Kind = AggregationKind.WeightedMean, Weights = raw }, members);
                Assert.Equal(type, mean.DataType);
                Assert.Equal(shape, mean.Shape);
                double[] gotMean = ToDoubles(mean), gotWeighted = ToDoubles(weighted);
                for (int i = 0; i < gotMean.Length; i++)
                {
                    double sum = 0, wsum = 0;
                    for (int m = 0; m < n; m++) sum += values[m][i];
                    for (int m = 0; m < n; m++) wsum += raw[m] / raw.Sum() * values[m][i];
                    Assert.Equal(RoundTo(type, sum / n), gotMean[i]);
                    Assert.Equal(RoundTo(type, wsum), gotWeighted[i], Tolerance(type, wsum));
                }
            }
        }
    }

    [Fact]
    public void WeightsAreNormalisedSoOneThreeMeansAQuarterAndThreeQuarters()
    {
        var a = Tensor.FromArray(new[] { 0.0, 4.0 }, 2);
        var b = Tensor.FromArray(new[] { 8.0, 0.0 }, 2);
        var result = Aggregate(new AggregationSpec { Kind = AggregationKind.WeightedMean, Weights = [1, 3] }, a, b);
        Assert.Equal([6.0, 1.0], result.ToArray<double>());
        var zeroWeight = Aggregate(new AggregationSpec { Kind = AggregationKind.WeightedMean, Weights = [0, 2] }, a, b);
        Assert.Equal([8.0, 0.0], zeroWeight.ToArray<double>());
    }

    [Theory]
    [InlineData(new[] { 1.0 }, "has 1 weights for 2 members")]
    [InlineData(new[] { 1.0, -0.5 }, "weight 1 is -0.5")]
    [InlineData(new[] { double.NaN, 1.0 }, "weight 0 is NaN")]
    [InlineData(new[] { double.PositiveInfinity, 1.0 }, "must be finite")]
    [InlineData(new[] { 0.0, 0.0 }, "sum to 0")]
    public void BadWeightsAreRejected(double[] weights, string fragment)
    {
        var t = Tensor.FromArray(new[] { 1f }, 1);
        var e = Assert.Throws<AggregationException>(() => Aggregate(new AggregationSpec { Kind = AggregationKind.WeightedMean, Weights = weights }, t, t));
        Assert.Contains(fragment, e.Message);
        Assert.Contains("needs one weight per member", Assert.Throws<AggregationException>(
            () => Aggregate(new AggregationSpec { Kind = AggregationKind.WeightedMean }, t, t)).Message);
        Assert.Contains("takes no weights", Assert.Throws<AggregationException>(
            () => Aggregate(new AggregationSpec { Kind = AggregationKind.Max, Weights = [1, 1] }, t, t)).Message);
    }

    [Fact]
    public void MeanOfIntegersIsRejectedWithAHint()
    {
        var t = Tensor.FromArray(new[] { 1L, 2L }, 2);
        var e = Assert.Throws<AggregationException>(() => Aggregate(s_mean, t, t));
        Assert.Contains("mean is not defined for int64 outputs (use majority_vote", e.Message);
    }

    [Fact]
    public void MismatchedMembersNameTheMember()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f }, 1, 2);
        var wrongShape = Tensor.FromArray(new[] { 1f, 2f }, 2, 1);
        var wrongType = Tensor.FromArray(new[] { 1.0, 2.0 }, 1, 2);
        var e = Assert.Throws<AggregationException>(() => PredictionAggregator.Aggregate(s_mean, [a, a, wrongShape], ["resnet", "vit", "convnext"]));
        Assert.Equal("mean: member 'convnext' outputs shape [2,1] but member 'resnet' outputs [1,2]", e.Message);
        e = Assert.Throws<AggregationException>(() => Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, a, wrongType));
        Assert.Equal("max: member 1 outputs float64 but member 0 outputs float32", e.Message);
        Assert.Contains("at least one member", Assert.Throws<AggregationException>(() => Aggregate(s_mean)).Message);
    }

    [Fact]
    public void MaxIsElementwiseForEveryNumericTypeAndPropagatesNaN()
    {
        var a = Tensor.FromArray(new[] { 1f, float.NaN, -3f, 0f }, 4);
        var b = Tensor.FromArray(new[] { 2f, 5f, -4f, float.NaN }, 4);
        float[] got = Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, a, b).ToArray<float>();
        Assert.Equal(2f, got[0]);
        Assert.True(float.IsNaN(got[1]));
        Assert.Equal(-3f, got[2]);
        Assert.True(float.IsNaN(got[3]));

        // uint64 above long.MaxValue must compare as unsigned.
        var u1 = Tensor.FromArray(new[] { ulong.MaxValue, 3UL }, 2);
        var u2 = Tensor.FromArray(new[] { 1UL, 1UL << 63 }, 2);
        Assert.Equal([ulong.MaxValue, 1UL << 63], Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, u1, u2).ToArray<ulong>());

        var i8 = Tensor.FromArray(new sbyte[] { -128, 5 }, 2);
        var i8b = Tensor.FromArray(new sbyte[] { -1, -7 }, 2);
        Assert.Equal([(sbyte)-1, (sbyte)5], Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, i8, i8b).ToArray<sbyte>());

        var random = new Random(3);
        foreach (var type in new[] { DataType.Float16, DataType.BFloat16, DataType.Float64 })
        {
            var members = Enumerable.Range(0, 3).Select(_ => RandomFloats(type, [3, 4], random)).ToArray();
            double[] got2 = ToDoubles(Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, members));
            for (int i = 0; i < got2.Length; i++) Assert.Equal(members.Max(m => ToDoubles(m)[i]), got2[i]);
        }
    }

    [Fact]
    public void MaxOfBoolIsLogicalOr()
    {
        var a = Tensor.Allocate(DataType.Bool, [4]);
        var b = Tensor.Allocate(DataType.Bool, [4]);
        new byte[] { 0, 0, 1, 1 }.CopyTo(a.Span<byte>());
        new byte[] { 0, 1, 0, 1 }.CopyTo(b.Span<byte>());
        var or = Aggregate(new AggregationSpec { Kind = AggregationKind.Max }, a, b);
        Assert.Equal(DataType.Bool, or.DataType);
        Assert.Equal([(byte)0, 1, 1, 1], or.ToArray<byte>());
    }

    private static Tensor RandomFloats(DataType type, int[] shape, Random random)
    {
        var t = Tensor.Allocate(type, shape);
        for (int i = 0; i < t.Length; i++)
        {
            double v = (random.NextDouble() * 2) - 1;
            switch (type)
            {
                case DataType.Float32: t.Span<float>()[i] = (float)v; break;
                case DataType.Float64: t.Span<double>()[i] = v; break;
                case DataType.Float16: t.Span<Half>()[i] = (Half)v; break;
                case DataType.BFloat16: t.Span<BFloat16>()[i] = BFloat16.FromSingle((float)v); break;
            }
        }

        return t;
    }

    internal static double[] ToDoubles(Tensor t) => t.DataType switch
    {
        DataType.Float32 => [.. t.ToArray<float>().Select(v => (double)v)],
        DataType.Float64 => t.ToArray<double>(),
        DataType.Float16 => [.. t.ToArray<Half>().Select(v => (double)v)],
        DataType.BFloat16 => [.. t.ToArray<BFloat16>().Select(v => (double)v.ToSingle())],
        _ => throw new ArgumentException(t.ToString()),
    };

    /// <summary>The float64 value rounded to the element type and back (the reference's own rounding).</summary>
    private static double RoundTo(DataType type, double v) => type switch
    {
        DataType.Float32 => (float)v,
        DataType.Float16 => (double)(Half)v,
        DataType.BFloat16 => BFloat16.FromDouble(v).ToSingle(),
        _ => v,
    };

    /// <summary>Weighted sums differ from the reference only in float64 rounding: allow one unit in the last place of the type.</summary>
    private static double Tolerance(DataType type, double v) => Math.Abs(v) * type switch
    {
        DataType.Float32 => 1.2e-7,
        DataType.Float16 => 1e-3,
        DataType.BFloat16 => 8e-3,
        _ => 1e-15,
    } + 1e-300;
}
