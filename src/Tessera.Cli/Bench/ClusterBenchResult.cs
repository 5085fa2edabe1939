using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tessera.Cli.Bench;

/// <summary>The rows of one `tessera bench-cluster` run, with the ratios the cluster targets are stated in.</summary>
internal sealed record ClusterBenchResult(ClusterBenchSettings Settings, int BatchRows, IReadOnlyList<ClusterBenchRow> Rows, IReadOnlyList<ClusterBenchRow> Stages)
{
    /// <summary>Distributed throughput over the single process's.</summary>
    public double SpeedUp => Rows[^1].RowsPerSecond / Rows[0].RowsPerSecond;

    /// <summary>Pipeline throughput over its slowest stage's alone (NaN for data parallel).</summary>
    public double OfSlowestStage => Stages.Count == 0 ? double.NaN : Rows[^1].RowsPerSecond / Stages.Min(s => s.RowsPerSecond);

    public string Text()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"model {Path.GetFileName(Settings.ModelPath)}, batch {BatchRows}, {Settings.Threads} thread(s) per process, {Environment.ProcessorCount} cores");
        foreach (var row in Rows.Concat(Stages))
        {
            text.AppendLine(c, $"  {row.Name,-36} {row.RowsPerSecond,10:F1} rows/s   median {row.MedianMs,9:F2} ms per batch   ({row.Runs} runs, {row.InFlight} in flight)");
        }

        // The runner stops before timing anything when an output differs, so a result always means identical bits.
        text.AppendLine("outputs bit-identical to the single process: yes");
        text.Append(c, $"speed-up over the single process: {SpeedUp:F2}x");
        if (Stages.Count > 0) text.Append(c, $"\nthroughput / slowest stage alone: {OfSlowestStage:F2}");
        return text.ToString();
    }

    public string Json()
    {
        static object Row(ClusterBenchRow r) => new { name = r.Name, in_flight = r.InFlight, rows_per_s = r.RowsPerSecond, median_ms = r.MedianMs, runs = r.Runs };
        return JsonSerializer.Serialize(new
        {
            model = Settings.ModelPath,
            strategy = Settings.Strategy,
            workers = Settings.Workers,
            threads = Settings.Threads,
            batch = BatchRows,
            cores = Environment.ProcessorCount,
            rows = Rows.Select(Row),
            stages = Stages.Select(Row),
            speed_up = SpeedUp,
            of_slowest_stage = Stages.Count == 0 ? (double?)null : OfSlowestStage,
            bit_identical = true,
        });
    }
}
