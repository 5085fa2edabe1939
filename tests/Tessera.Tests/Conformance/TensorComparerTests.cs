using Tessera.Cli.Conformance;
using Tessera.Tensors;

namespace Tessera.Tests.Conformance;

public sealed class TensorComparerTests
{
    [Fact]
    public void MeasureTakesRelativeDifferencesOnlyWhereTheRelativeTermDecides()
    {
        // atol / rtol = 0.1: the 0.01 element's 50% error counts only towards the absolute difference.
        var expected = Tensor.FromArray([10f, 0.01f, -2f, 0f], 4);
        var got = Tensor.FromArray([10.005f, 0.015f, -2f, 0f], 4);
        var stats = TensorComparer.Measure(got, expected, atol: 1e-4, rtol: 1e-3);
        Assert.Equal(0.005, stats.MaxAbs, 5);
        Assert.Equal(0.0005, stats.MaxRel, 5);
    }

    [Fact]
    public void MeasureCountsNaNAgainstANumberAsInfinite()
    {
        var stats = TensorComparer.Measure(Tensor.FromArray([float.NaN, 1f], 2), Tensor.FromArray([1f, 1f], 2), 1e-4, 1e-3);
        Assert.Equal(double.PositiveInfinity, stats.MaxAbs);
        Assert.Equal(double.PositiveInfinity, stats.MaxRel);
    }

    [Fact]
    public void MeasureTreatsMatchingNaNsAsEqual()
    {
        var stats = TensorComparer.Measure(Tensor.FromArray([float.NaN], 1), Tensor.FromArray([float.NaN], 1), 1e-7, 1e-3);
        Assert.Equal(new DiffStats(0, 0), stats);
    }

    [Fact]
    public void MeasureIsNoneWhenShapesDiffer()
    {
        var stats = TensorComparer.Measure(Tensor.FromArray([1f, 2f], 2), Tensor.FromArray([1f, 2f], 1, 2), 1e-7, 1e-3);
        Assert.True(double.IsNaN(stats.MaxAbs) && double.IsNaN(stats.MaxRel));
    }

    [Fact]
    public void DiffStatsMergeIgnoresUnmeasured()
    {
        var merged = DiffStats.None.Merge(new DiffStats(1e-5, 2e-4)).Merge(new DiffStats(3e-5, 1e-4));
        Assert.Equal(new DiffStats(3e-5, 2e-4), merged);
    }
}
