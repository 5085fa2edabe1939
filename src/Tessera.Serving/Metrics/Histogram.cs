using System.Globalization;
using System.Text;

namespace Tessera.Serving.Metrics;

/// <summary>A Prometheus histogram with fixed upper bounds; observations are lock-free.</summary>
internal sealed class Histogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts; // per bucket (not cumulative), the last one for +Inf
    private long _count;
    private long _sumBits;

    public Histogram(double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    /// <summary>Seconds from 50 µs to 10 s, for queue, compute and request times.</summary>
    public static double[] TimeBounds { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static double[] BatchBounds { get; } = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    public long Count => Interlocked.Read(ref _count);

    public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

    public void Observe(double value)
    {
        int bucket = 0;
        while (bucket < _bounds.Length && value > _bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _count);
        long seen = Interlocked.Read(ref _sumBits);
        while (true)
        {
            long next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            long found = Interlocked.CompareExchange(ref _sumBits, next, seen);
            if (found == seen) break;
            seen = found;
        }
    }

    /// <summary>Writes the _bucket, _sum and _count series; <paramref name="labels"/> is e.g. <c>model="a",version="1"</c>.</summary>
    public void WriteTo(StringBuilder text, string name, string labels)
    {
        long cumulative = 0;
        for (int i = 0; i <= _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            string le = i < _bounds.Length ? _bounds[i].ToString("0.##########", CultureInfo.InvariantCulture) : "+Inf";
            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append(name).Append("_sum{").Append(labels).Append("} ").Append(Sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        // The buckets just read, not Count: an observation landing mid-scrape must not make _count differ from +Inf.
        text.Append(name).Append("_count{").Append(labels).Append("} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
