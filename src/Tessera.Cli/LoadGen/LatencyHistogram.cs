using System.Diagnostics;
using System.Numerics;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// Latencies of one worker (not thread-safe; merge the workers' histograms at the end). Two views: fine buckets,
/// 128 per power of two (under 0.8% wide, exact below 256 ns), for percentiles; and display buckets with
/// 1-2-5 edges (1 µs, 2 µs, 5 µs, 10 µs, ... 100 s), counted exactly. Recording is a few integer operations.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 7;
    private const int SubBuckets = 1 << SubBits;
    private const int MaxExponent = 44; // 2^44 ns is almost 5 hours: nothing a run waits for
    private const int FineCount = 256 + ((MaxExponent - 8 + 1) * SubBuckets);

    /// <summary>Display bucket upper edges in nanoseconds: 1, 2, 5 × 10^k from 1 µs to 100 s.</summary>
    public static readonly long[] DisplayEdgesNs = [.. Enumerable.Range(3, 9).SelectMany(k => new[] { 1L, 2L, 5L }.Select(m => m * (long)Math.Pow(10, k))).Take(25)];

    private readonly long[] _fine = new long[FineCount];
    private readonly long[] _display = new long[DisplayEdgesNs.Length + 1];

    public long Count { get; private set; }

    public long SumNs { get; private set; }

    public long MaxNs { get; private set; }

    public long MinNs { get; private set; } = long.MaxValue;

    public IReadOnlyList<long> DisplayCounts => _display;

    public void RecordTicks(long ticks) => Record(ticks * 1_000_000_000 / Stopwatch.Frequency);

    public void Record(long ns)
    {
        ns = Math.Clamp(ns, 0, (1L << (MaxExponent + 1)) - 1);
        _fine[FineIndex(ns)]++;
        int d = Array.BinarySearch(DisplayEdgesNs, ns);
        _display[d >= 0 ? d : ~d]++;
        Count++;
        SumNs += ns;
        if (ns > MaxNs) MaxNs = ns;
        if (ns < MinNs) MinNs = ns;
    }

    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < _fine.Length; i++) _fine[i] += other._fine[i];
        for (int i = 0; i < _display.Length; i++) _display[i] += other._display[i];
        Count += other.Count;
        SumNs += other.SumNs;
        MaxNs = Math.Max(MaxNs, other.MaxNs);
        MinNs = Math.Min(MinNs, other.MinNs);
    }

    /// <summary>
    /// The latency (ns) at or below which <paramref name="fraction"/> of the requests finished (nearest rank), as the
    /// middle of its fine bucket, clamped to the observed minimum and maximum. 0 when nothing was recorded.
    /// </summary>
    public double Percentile(double fraction)
    {
        if (Count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(fraction * Count));
        long seen = 0;
        for (int i = 0; i < _fine.Length; i++)
        {
            seen += _fine[i];
            if (seen >= rank)
            {
                var (low, high) = Bounds(i);
                return Math.Clamp((low + high) / 2.0, MinNs, MaxNs);
            }
        }

        return MaxNs;
    }

    internal static int FineIndex(long ns)
    {
        if (ns < 256) return (int)ns;
        int e = BitOperations.Log2((ulong)ns);
        int sub = (int)((ns >> (e - SubBits)) & (SubBuckets - 1));
        return 256 + ((e - 8) * SubBuckets) + sub;
    }

    /// <summary>The [low, high) nanoseconds of a fine bucket.</summary>
    internal static (long Low, long High) Bounds(int index)
    {
        if (index < 256) return (index, index + 1);
        int e = 8 + ((index - 256) / SubBuckets);
        int sub = (index - 256) % SubBuckets;
        long low = (long)(SubBuckets + sub) << (e - SubBits);
        return (low, low + (1L << (e - SubBits)));
    }
}
