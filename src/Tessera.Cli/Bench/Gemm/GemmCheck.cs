using System.Globalization;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// Which rows of a product `bench-gemm` checks before timing it: all of them while the reference's multiply-adds stay
/// under <see cref="Budget"/> (a fraction of a second), else rows spread evenly from the first to the last (the last
/// row tile is the edge case a kernel most often gets wrong), every column of each.
/// </summary>
internal static class GemmCheck
{
    public const long Budget = 1L << 26;

    public static int[] Rows(GemmShape shape)
    {
        long perRow = (long)shape.N * shape.K;
        int count = (int)Math.Clamp(Budget / perRow, 1, shape.M);
        if (count == shape.M)
        {
            return Enumerable.Range(0, shape.M).ToArray();
        }

        count = Math.Max(2, count);
        return Enumerable.Range(0, count).Select(i => (int)((long)i * (shape.M - 1) / (count - 1))).Distinct().ToArray();
    }

    /// <summary>
    /// Checks C's <paramref name="rows"/> (ldc floats apart) against float64 sums of A (M x K) times B (K x N, or N x K
    /// when transposed): any summation order of K float products is within K·2^-24 of Σ|a·b| of the exact sum, so twice
    /// that is allowed, while a wrong index or a lost term is off by the size of a term. Null when every element holds.
    /// </summary>
    public static unsafe string? FloatProduct(string what, GemmShape s, float* a, float* b, bool transB, float* c, long ldc, int[] rows)
    {
        foreach (int i in rows)
        {
            for (int j = 0; j < s.N; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < s.K; p++)
                {
                    double term = (double)a[(long)i * s.K + p] * (transB ? b[(long)j * s.K + p] : b[(long)p * s.N + j]);
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                double actual = c[i * ldc + j];
                double allowed = 2.0 * s.K * Math.ScaleB(1.0, -24) * magnitude + 1e-30;
                if (!(Math.Abs(actual - sum) <= allowed))
                {
                    return Mismatch(what, s, i, j, actual, sum, allowed);
                }
            }
        }

        return null;
    }

    public static string Mismatch(string what, GemmShape shape, int row, int column, double actual, double expected, double allowed) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{what} {shape}: C[{row}, {column}] is {actual:G9} but the reference gives {expected:G9} (allowed error {allowed:G3}): the kernel is wrong, nothing was timed");
}
