using System.Runtime.Intrinsics;
using Tessera.Kernels.Elementwise;

namespace Tessera.Tests.Kernels.Elementwise;

/// <summary>The float exp (softmax's, GELU's) against the double-precision Math.Exp, at every vector width, over its whole range.</summary>
public sealed class ExpMathTests
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
            foreach (float actual in AllWidths(x))
            {
                Assert.True(Math.Abs(actual - expected) <= ulp, $"exp({x:R}) = {actual:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void EdgesAreZeroInfinityAndNaN()
    {
        Assert.All(AllWidths(0f), e => Assert.Equal(1f, e));
        Assert.All(AllWidths(float.NegativeInfinity), e => Assert.Equal(0f, e));
        Assert.All(AllWidths(-87.4f), e => Assert.Equal(0f, e));
        Assert.All(AllWidths(-1e30f), e => Assert.Equal(0f, e));
        Assert.All(AllWidths(89f), e => Assert.Equal(float.PositiveInfinity, e));
        Assert.All(AllWidths(float.PositiveInfinity), e => Assert.Equal(float.PositiveInfinity, e));
        Assert.All(AllWidths(float.NaN), e => Assert.True(float.IsNaN(e)));
    }

    [Fact]
    public void EveryWidthGivesTheSameBits()
    {
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            float x = (float)((random.NextDouble() * 190) - 95);
            float[] e = AllWidths(x);
            Assert.True(e.All(v => BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(e[0])), $"exp({x:R}): {string.Join(", ", e)}");
        }
    }

    [Fact]
    public void ExpNotAboveGivesExpsBitsUpToItsBound()
    {
        // Softmax's exp(x - max) skips the overflow select: at and below 88.37, and for NaN, it must be Exp itself (the
        // 128-bit one: the 256-bit Exp is built on ExpNotAbove).
        var random = new Random(6);
        var values = Enumerable.Range(0, 20_000).Select(_ => (float)((random.NextDouble() * 183.37) - 95))
            .Concat([88.37f, 0f, -0f, -87.4f, float.NegativeInfinity, float.NaN, -1e30f]);
        foreach (float x in values)
        {
            int want = BitConverter.SingleToInt32Bits(ExpMath.Exp(Vector128.Create(x)).GetElement(3));
            Assert.True(want == BitConverter.SingleToInt32Bits(ExpMath.ExpNotAbove(Vector256.Create(x)).GetElement(3)), $"exp({x:R})");
        }
    }

    /// <summary>exp(x) from the 512-, 256- and 128-bit functions, in a lane other than the first.</summary>
    private static float[] AllWidths(float x) =>
    [
        ExpMath.Exp(Vector512.Create(0f).WithElement(9, x)).GetElement(9),
        ExpMath.Exp(Vector256.Create(0f).WithElement(5, x)).GetElement(5),
        ExpMath.Exp(Vector128.Create(0f).WithElement(2, x)).GetElement(2),
    ];
}
