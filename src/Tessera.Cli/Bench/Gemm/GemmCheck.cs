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

    public static string Mismatch(string what, GemmShape shape, int row, int column, double actual, double expected, double allowed) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{what} {shape}: C[{row}, {column}] is {actual:G9} but the reference gives {expected:G9} (allowed error {allowed:G3}): the kernel is wrong, nothing was timed");
}
