using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Cli.LoadGen;

/// <summary>The report of a run: text for people, or one JSON object (field names in docs/tools.md).</summary>
internal static class LoadReport
{
    private const int BarWidth = 40;

    public static string Text(LoadResult r)
    {
        var s = r.Settings;
        var sb = new StringBuilder();
        var h = r.Latency;
        sb.AppendLine(Inv($"model        {r.ModelName} at {s.BaseUrl}, {s.Concurrency} workers, {(s.Binary ? "binary" : "JSON")} requests of {r.RequestBytes:N0} bytes"));
        sb.AppendLine(Inv($"time         {r.MeasuredSeconds:0.00} s measured after {s.Warmup.TotalSeconds:0.##} s warmup{(r.Interrupted ? " (interrupted)" : "")}"));
        sb.AppendLine(Inv($"requests     {r.Requests:N0} ({r.Ok:N0} ok, {r.ErrorCount:N0} errors)"));
        sb.AppendLine(Inv($"throughput   {r.ThroughputPerSecond:N1} requests/s"));
        sb.AppendLine(h.Count == 0
            ? "latency      no successful requests"
            : Inv($"latency ms   p50 {Ms(h.Percentile(0.5))}  p90 {Ms(h.Percentile(0.9))}  p99 {Ms(h.Percentile(0.99))}  max {Ms(h.MaxNs)}  mean {Ms((double)h.SumNs / h.Count)}"));
        if (h.Count > 0)
        {
            sb.AppendLine("histogram    ms (bucket upper edge inclusive)");
            var buckets = DisplayBuckets(h).ToList();
            long most = buckets.Max(b => b.Count);
            foreach (var (from, to, count) in buckets)
            {
                string range = double.IsPositiveInfinity(to) ? Inv($"> {Ms(from)}") : Inv($"{Ms(from)} - {Ms(to)}");
                int bar = (int)Math.Ceiling(BarWidth * (double)count / most);
                sb.AppendLine(Inv($"  {range,20} {count,12:N0}  {new string('#', bar)}"));
            }
        }

        if (r.Errors.Count > 0)
        {
            sb.AppendLine("errors       " + string.Join(", ", r.Errors.Select(e => Inv($"{e.Key}: {e.Value:N0}"))));
        }

        return sb.ToString().TrimEnd();
    }

    public static string Json(LoadResult r)
    {
        var s = r.Settings;
        var h = r.Latency;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("url", s.BaseUrl.ToString());
            w.WriteString("model", r.ModelName);
            w.WriteNumber("concurrency", s.Concurrency);
            w.WriteBoolean("binary", s.Binary);
            w.WriteNumber("request_bytes", r.RequestBytes);
            w.WriteNumber("warmup_s", s.Warmup.TotalSeconds);
            w.WriteNumber("duration_s", Math.Round(r.MeasuredSeconds, 4));
            w.WriteBoolean("interrupted", r.Interrupted);
            w.WriteNumber("requests", r.Requests);
            w.WriteNumber("ok", r.Ok);
            w.WriteNumber("errors", r.ErrorCount);
            w.WriteStartObject("errors_by_status");
            foreach (var (key, count) in r.Errors) w.WriteNumber(key, count);
            w.WriteEndObject();
            w.WriteNumber("throughput_per_s", Math.Round(r.ThroughputPerSecond, 2));
            w.WriteNumber("p50_ms", MsValue(h.Percentile(0.5)));
            w.WriteNumber("p90_ms", MsValue(h.Percentile(0.9)));
            w.WriteNumber("p99_ms", MsValue(h.Percentile(0.99)));
            w.WriteNumber("max_ms", MsValue(h.MaxNs));
            w.WriteNumber("min_ms", MsValue(h.Count == 0 ? 0 : h.MinNs));
            w.WriteNumber("mean_ms", MsValue(h.Count == 0 ? 0 : (double)h.SumNs / h.Count));
            w.WriteStartArray("histogram");
            foreach (var (from, to, count) in DisplayBuckets(h))
            {
                w.WriteStartObject();
                w.WriteNumber("from_ms", MsValue(from));
                if (double.IsPositiveInfinity(to)) w.WriteNull("to_ms");
                else w.WriteNumber("to_ms", MsValue(to));
                w.WriteNumber("count", count);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The 1-2-5 display buckets from the first to the last non-empty one, in nanoseconds.</summary>
    private static IEnumerable<(double FromNs, double ToNs, long Count)> DisplayBuckets(LatencyHistogram h)
    {
        var counts = h.DisplayCounts;
        var edges = LatencyHistogram.DisplayEdgesNs;
        int first = -1, last = -1;
        for (int i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0) continue;
            if (first < 0) first = i;
            last = i;
        }

        for (int i = first; first >= 0 && i <= last; i++)
        {
            yield return (i == 0 ? 0 : edges[i - 1], i < edges.Length ? edges[i] : double.PositiveInfinity, counts[i]);
        }
    }

    private static double MsValue(double ns) => Math.Round(ns / 1e6, 4);

    private static string Ms(double ns) => (ns / 1e6).ToString(ns < 1e7 ? "0.###" : "0.#", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
