namespace Tessera.Cli.Bench;

/// <summary>Order statistics of the timed runs, in milliseconds.</summary>
internal sealed record LatencyStats(double MedianMs, double P90Ms, double MinMs, double MaxMs, double MeanMs)
{
    public static LatencyStats From(ReadOnlySpan<double> timesMs)
    {
        if (timesMs.IsEmpty)
        {
            throw new ArgumentException("no timed runs", nameof(timesMs));
        }

        double[] sorted = timesMs.ToArray();
        Array.Sort(sorted);
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;

        // Nearest rank: the smallest time that at least 90% of the runs do not exceed.
        double p90 = sorted[(int)Math.Ceiling(0.9 * n) - 1];
        return new LatencyStats(median, p90, sorted[0], sorted[^1], sorted.Average());
    }
}
