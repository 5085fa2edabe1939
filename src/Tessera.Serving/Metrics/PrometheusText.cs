using System.Globalization;
using System.Text;

namespace Tessera.Serving.Metrics;

/// <summary>Helpers for the Prometheus text exposition format (version 0.0.4).</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Escape(string labelValue) =>
        labelValue.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public static void Sample(StringBuilder text, string name, KeyValuePair<string, object?>[] labels, double value) =>
        text.Append(name).Append('{').Append(Labels(labels)).Append("} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>Label pairs as the text writes them, e.g. <c>model="a",version="1"</c>.</summary>
    public static string Labels(KeyValuePair<string, object?>[] labels) =>
        string.Join(",", labels.Select(l => $"{l.Key}=\"{Escape((string)l.Value!)}\""));
}
