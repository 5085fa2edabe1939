using System.Runtime.Intrinsics;
using Tessera.Kernels.Reduction;

namespace Tessera.Tests.Kernels.Reduction;

/// <summary>Softmax's float exp against the double-precision Math.Exp, at both vector widths, over its whole range.</summary>
public sealed class SoftmaxExpTests
{
    [Fact]
    public void WithinOneUlpOfExpFromTheSmallestNormalUp()
    {
        var random = new Random(17);
        // A dense sweep of the accurate range, the arguments softmax sees most (just below 0) and exact points.
        var values = Enumerable.Range(0, 200_000).Select(i => -87.33f + (175.7f * i / 200_000))
            .Concat(Enumerable.Range(0, 50_000).Select(_ => -(float)Math.Pow(10, (random.NextDouble() * 9.9) - 8)))
            .Concat([0f, -0f, 1f, -1f, -87.33f, 88.37f, MathF.Log(2)])
            .ToArray();
        foreach (float x in values)
        {
            double expected = Math.Exp(x);
            float ulp = MathF.BitIncrement((float)expected) - (float)expected;
            foreach (float actual in Both(x))
            {
                Assert.True(Math.Abs(actual - expected) <= ulp, $"exp({x:R}) = {actual:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void EdgesAreZeroInfinityAndNaN()
    {
        Assert.All(Both(0f), e => Assert.Equal(1f, e));
        Assert.All(Both(float.NegativeInfinity), e => Assert.Equal(0f, e));
        Assert.All(Both(-87.4f), e => Assert.Equal(0f, e));
        Assert.All(Both(-1e30f), e => Assert.Equal(0f, e));
        Assert.All(Both(89f), e => Assert.Equal(float.PositiveInfinity, e));
        Assert.All(Both(float.PositiveInfinity), e => Assert.Equal(float.PositiveInfinity, e));
        Assert.All(Both(float.NaN), e => Assert.True(float.IsNaN(e)));
    }

    /// <summary>exp(x) from the 512- and the 256-bit function, in a lane other than the first.</summary>
    private static float[] Both(float x) =>
        [SoftmaxExp.Exp(Vector512.Create(0f).WithElement(9, x)).GetElement(9), SoftmaxExp.Exp(Vector256.Create(0f).WithElement(5, x)).GetElement(5)];
}
