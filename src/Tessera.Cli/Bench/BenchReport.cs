using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Cli.Bench;

/// <summary>Writes a <see cref="BenchResult"/> for people (text) or for scripts (one JSON object, snake_case keys).</summary>
internal static class BenchReport
{
    public static string Text(BenchResult r)
    {
        var ci = CultureInfo.InvariantCulture;
        var s = r.Settings;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"model: {s.ModelPath} (loaded in {r.LoadMs:F1} ms)");
        sb.AppendLine(ci, $"inputs: {string.Join(", ", r.Inputs)} (batch {r.Batch})");
        sb.AppendLine(ci, $"threads: {s.Threads}, warm-up runs: {s.Warmup}{(r.FirstRunMs is { } f ? string.Create(ci, $" (first {f:F3} ms)") : "")}, timed runs: {r.TimedRuns}");
        sb.AppendLine(ci, $"latency: median {r.Latency.MedianMs:F3} ms, p90 {r.Latency.P90Ms:F3} ms, min {r.Latency.MinMs:F3} ms (mean {r.Latency.MeanMs:F3}, max {r.Latency.MaxMs:F3})");
        sb.AppendLine(ci, $"throughput: {r.ThroughputPerSecond:F2} inferences/s, {r.ItemsPerSecond:F2} items/s");
        sb.AppendLine(r.GflopsPerSecond is { } g
            ? string.Create(ci, $"compute: {r.Flops.Flops / 1e9:F3} GFLOP per inference in {r.Flops.CountedNodes} MatMul/Gemm/Conv nodes, {g:F2} GFLOP/s at the median")
            : string.Create(ci, $"compute: FLOPs not known ({r.Flops.CountedNodes} MatMul/Gemm/Conv nodes counted, {r.Flops.UnknownNodes} with unknown shapes)"));
        sb.AppendLine(ci, $"cpu: {r.CpuMsPerInference:F3} ms per inference (all threads)");
        sb.AppendLine(ci, $"memory: peak working set {r.PeakWorkingSetBytes / (1024.0 * 1024.0):F1} MiB, {r.AllocatedBytesPerInference:F0} managed bytes allocated per inference");
        sb.Append(ci, $"gc per inference: gen0 {r.Gen0PerInference:F3}, gen1 {r.Gen1PerInference:F3}, gen2 {r.Gen2PerInference:F3}");
        if (r.Profile is { } profile)
        {
            ProfileReport.AppendText(sb, profile, s.ProfileTop);
        }

        return sb.ToString().TrimEnd();
    }

    public static string Json(BenchResult r)
    {
        var s = r.Settings;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", s.ModelPath);
            w.WriteStartArray("inputs");
            foreach (string input in r.Inputs)
            {
                w.WriteStringValue(input);
            }

            w.WriteEndArray();
            w.WriteNumber("batch", r.Batch);
            w.WriteNumber("threads", s.Threads);
            w.WriteNumber("warmup", s.Warmup);
            w.WriteNumber("iterations", r.TimedRuns);
            w.WriteNumber("load_ms", r.LoadMs);
            Nullable(w, "first_run_ms", r.FirstRunMs);
            w.WriteNumber("median_ms", r.Latency.MedianMs);
            w.WriteNumber("p90_ms", r.Latency.P90Ms);
            w.WriteNumber("min_ms", r.Latency.MinMs);
            w.WriteNumber("mean_ms", r.Latency.MeanMs);
            w.WriteNumber("max_ms", r.Latency.MaxMs);
            w.WriteNumber("throughput_per_s", r.ThroughputPerSecond);
            w.WriteNumber("items_per_s", r.ItemsPerSecond);
            Nullable(w, "flops", r.GflopsPerSecond is null ? null : r.Flops.Flops);
            Nullable(w, "gflops_per_s", r.GflopsPerSecond);
            w.WriteNumber("flop_nodes_counted", r.Flops.CountedNodes);
            w.WriteNumber("flop_nodes_unknown", r.Flops.UnknownNodes);
            w.WriteNumber("cpu_ms_per_inference", r.CpuMsPerInference);
            w.WriteNumber("peak_working_set_bytes", r.PeakWorkingSetBytes);
            w.WriteNumber("allocated_bytes_per_inference", r.AllocatedBytesPerInference);
            w.WriteNumber("gen0_per_inference", r.Gen0PerInference);
            w.WriteNumber("gen1_per_inference", r.Gen1PerInference);
            w.WriteNumber("gen2_per_inference", r.Gen2PerInference);
            if (r.Profile is { } profile)
            {
                ProfileReport.WriteJson(w, profile, s.ProfileTop);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Nullable(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
