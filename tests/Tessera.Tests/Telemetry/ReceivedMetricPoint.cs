namespace Tessera.Tests.Telemetry;

/// <summary>
/// One data point of a metric as an OTLP receiver decoded it: a counter's or gauge's value, or a histogram's count,
/// sum, bounds and per-bucket counts (not cumulative, as OTLP sends them), with its attributes as text.
/// </summary>
internal sealed record ReceivedMetricPoint(
    string Service,
    string Scope,
    string Name,
    string Kind,
    bool Cumulative,
    IReadOnlyDictionary<string, string> Attributes,
    double Value,
    ulong Count,
    double Sum,
    IReadOnlyList<double> Bounds,
    IReadOnlyList<ulong> BucketCounts)
{
    /// <summary>The series it belongs to: the name and the attributes, sorted.</summary>
    public string Series => $"{Name}{{{string.Join(",", Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"))}}}";

    public bool Has(string key, string value) => Attributes.TryGetValue(key, out var v) && v == value;
}
