using Tessera.Kernels.Elementwise;
using Tessera.Kernels.Fused;

namespace Tessera.Tests.Kernels.Fused;

/// <summary>The single-precision GELU pass against GELU evaluated in double, and the same rounding for tail elements.</summary>
public sealed class GeluMathTests
{
    [Fact]
    public void MatchesDoublePrecisionGelu()
    {
        var x = Enumerable.Range(-10000, 20001).Select(i => i / 1000f).Append(1e-20f).Append(-1e-20f).ToArray();
        var y = new float[x.Length];
        GeluMath.Apply(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = 0.5 * x[i] * (1 + ErfMath.Erf(x[i] / Math.Sqrt(2)));
            double error = Math.Abs(y[i] - expected);
            // A few ulp of erf (about 1), scaled by x/2 where 1 + erf cancels for negative x.
            Assert.True(error <= 4e-7 * Math.Abs(expected) + 2.5e-7 * Math.Abs(x[i]), $"GELU({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void TailsRoundLikeFullVectorsAndSpecialValuesPropagate()
    {
        var random = new Random(7);
        var x = Enumerable.Range(0, 67).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        var whole = new float[x.Length];
        GeluMath.Apply(x, whole);
        for (int length = 1; length <= x.Length; length += 3)
        {
            // An element computed in the tail of a short span equals the same element computed inside a full vector.
            var part = x[^length..];
            var y = new float[length];
            GeluMath.Apply(part, y);
            Assert.Equal(whole[^length..], y);
        }

        var special = new[] { float.NaN, float.PositiveInfinity, 0f, 100f, -100f };
        var result = new float[special.Length];
        GeluMath.Apply(special, result);
        Assert.True(float.IsNaN(result[0]));
        Assert.Equal(float.PositiveInfinity, result[1]);
        Assert.Equal(0f, result[2]);
        Assert.Equal(100f, result[3]);
        Assert.Equal(0f, result[4]);
    }
}
