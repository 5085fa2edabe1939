using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Engine.Profiling;

namespace Tessera.Cli.Bench;

/// <summary>Writes a <see cref="SessionProfile"/>: milliseconds per inference by operator type and for the slowest nodes.</summary>
internal static class ProfileReport
{
    public static void AppendText(StringBuilder sb, SessionProfile profile, int top)
    {
        var ci = CultureInfo.InvariantCulture;
        int runs = Math.Max(1, profile.Runs);
        double total = profile.TotalMs / runs;
        sb.AppendLine();
        sb.AppendLine(ci, $"profile: {profile.Runs} runs, {total:F3} ms per inference in {profile.Nodes.Count} nodes");
        sb.AppendLine(ci, $"  {"operator",-28} {"nodes",6} {"ms/inf",10} {"share",7}");
        foreach (var (op, nodes, ms) in profile.ByOperator())
        {
            sb.AppendLine(ci, $"  {op,-28} {nodes,6} {ms / runs,10:F3} {Share(ms, profile.TotalMs),6:F1}%");
        }

        sb.AppendLine(ci, $"  slowest {Math.Min(top, profile.Nodes.Count)} nodes:");
        foreach (var node in profile.Slowest(top))
        {
            sb.AppendLine(ci, $"  {node.Step,5} {node.OpType,-16} {node.TotalMs / runs,10:F3} {Share(node.TotalMs, profile.TotalMs),6:F1}%  {node.Name}");
        }
    }

    public static void WriteJson(Utf8JsonWriter w, SessionProfile profile, int top)
    {
        int runs = Math.Max(1, profile.Runs);
        w.WriteStartObject("profile");
        w.WriteNumber("runs", profile.Runs);
        w.WriteNumber("total_ms_per_inference", profile.TotalMs / runs);
        w.WriteStartArray("operators");
        foreach (var (op, nodes, ms) in profile.ByOperator())
        {
            w.WriteStartObject();
            w.WriteString("op_type", op);
            w.WriteNumber("nodes", nodes);
            w.WriteNumber("ms_per_inference", ms / runs);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("slowest_nodes");
        foreach (var node in profile.Slowest(top))
        {
            w.WriteStartObject();
            w.WriteNumber("step", node.Step);
            w.WriteString("name", node.Name);
            w.WriteString("op_type", node.OpType);
            w.WriteNumber("ms_per_inference", node.TotalMs / runs);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static double Share(double ms, double total) => total > 0 ? 100.0 * ms / total : 0;
}
