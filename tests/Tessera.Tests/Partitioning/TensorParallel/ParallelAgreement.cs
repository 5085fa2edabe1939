using Tessera.Tensors;

namespace Tessera.Tests.Partitioning.TensorParallel;

/// <summary>
/// The tensor-parallel rule ("agree within 1e-5 relative"): every output element a of a sharded run and b of the
/// single-node run satisfy |a − b| ≤ 1e-5 · max(|b|, floor), with floor = 0.1 · max|b| over that output tensor.
/// So elements of at least a tenth of the output's largest magnitude agree to 1e-5 of their own value, and smaller
/// ones to 1e-6 of the largest magnitude. Why a floor: a row split sums each dot product in another order (T
/// partial sums, then their sum), which moves every element by a few float32 roundings of the terms summed,
/// i.e. of the activations' scale, not of the element; an element near zero by cancellation cannot keep 1e-5 of
/// itself under any reordering. Measured on bert, gpt and dense at degrees 2 and 4: |a − b| ≤ 2.3e-7 · max|b|.
/// </summary>
internal static class ParallelAgreement
{
    public const double Relative = 1e-5;
    public const double FloorFraction = 0.1;

    public static void AssertAgrees(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, b) in expected)
        {
            var a = actual[name];
            Assert.Equal(b.Shape, a.Shape);
            Assert.Equal(b.DataType, a.DataType);
            var (worst, index) = WorstRatio(b, a);
            Assert.True(worst <= 1.0, $"{what}: output '{name}' element {index}: {ValueAt(a, index)} vs whole-model {ValueAt(b, index)} "
                + $"exceeds 1e-5 relative (ratio to the bound {worst:G3})");
        }
    }

    /// <summary>The largest |a − b| / bound over the tensor (≤ 1 passes) and where it is.</summary>
    public static (double Ratio, int Index) WorstRatio(Tensor expected, Tensor actual)
    {
        var b = Values(expected);
        var a = Values(actual);
        double scale = b.Length == 0 ? 0 : b.Max(Math.Abs);
        double floor = Math.Max(FloorFraction * scale, double.Epsilon);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < b.Length; i++)
        {
            double ratio = double.IsNaN(a[i]) != double.IsNaN(b[i]) ? double.PositiveInfinity
                : a[i] == b[i] ? 0 : Math.Abs(a[i] - b[i]) / (Relative * Math.Max(Math.Abs(b[i]), floor));
            if (ratio > worst)
            {
                worst = ratio;
                at = i;
            }
        }

        return (worst, at);
    }

    private static double[] Values(Tensor t) => t.DataType switch
    {
        DataType.Float32 => t.ToArray<float>().Select(v => (double)v).ToArray(),
        DataType.Float64 => t.ToArray<double>(),
        DataType.Float16 => t.ToArray<Half>().Select(v => (double)v).ToArray(),
        DataType.Int64 => t.ToArray<long>().Select(v => (double)v).ToArray(),
        DataType.Int32 => t.ToArray<int>().Select(v => (double)v).ToArray(),
        _ => throw new NotSupportedException($"comparing {t} is not supported"),
    };

    private static string ValueAt(Tensor t, int index) => Values(t)[index].ToString("G9", System.Globalization.CultureInfo.InvariantCulture);
}
