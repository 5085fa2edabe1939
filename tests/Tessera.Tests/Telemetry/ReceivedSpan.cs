namespace Tessera.Tests.Telemetry;

/// <summary>A span as an OTLP receiver decoded it: ids in lower-case hex (the parent empty for a root), its process's resource and its attributes as text.</summary>
internal sealed record ReceivedSpan(
    string Service,
    string? Instance,
    string Scope,
    string Name,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    int Kind,
    ulong StartUnixNano,
    ulong EndUnixNano,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> LinkedSpanIds)
{
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var v) ? v : null;

    public double Milliseconds => (EndUnixNano - StartUnixNano) / 1e6;

    public override string ToString() => $"{Service}{(Instance is null ? "" : "/" + Instance)} {Scope} {Name} {SpanId} <- {ParentSpanId} [{string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}"))}]";
}
