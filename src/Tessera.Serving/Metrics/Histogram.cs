using System.Globalization;
using System.Text;
using Instrument = System.Diagnostics.Metrics.Histogram<double>;

namespace Tessera.Serving.Metrics;

/// <summary>
/// A Prometheus histogram with fixed upper bounds; observations are lock-free. Each observation is also recorded
/// into an instrument of the serving meter, with this histogram's labels, for whoever listens there (OTLP).
/// </summary>
internal sealed class Histogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts; // per bucket (not cumulative), the last one for +Inf
    private readonly Instrument? _instrument;
    private readonly KeyValuePair<string, object?>[] _tags;
    private long _count;
    private long _sumBits;

    public Histogram(double[] bounds, Instrument? instrument = null, KeyValuePair<string, object?>[]? tags = null)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
        _instrument = instrument;
        _tags = tags ?? [];
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

        // Nothing but a flag test while no one listens to the meter.
        _instrument?.Record(value, _tags);
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
