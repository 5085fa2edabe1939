using System.Globalization;
using System.Text;
using System.Text.Json;
using Tessera.Cluster.Transport;
using Tessera.Engine.Quantization;
using Tessera.Partitioning.Cost;

namespace Tessera.Cli.Bench;

/// <summary>The rounds of one `tessera bench-cluster` run, with the ratios the cluster targets are stated in.</summary>
internal sealed record ClusterBenchResult(ClusterBenchSettings Settings, int BatchRows, IReadOnlyList<ClusterBenchRound> Rounds)
{
    /// <summary>Bytes of tensor data the coordinator and the workers sent each other for one batch.</summary>
    public long WireBytesPerBatch { get; init; }

    /// <summary>Each float32 output's error against the single process when the wire narrows (empty: bit-identical).</summary>
    public IReadOnlyList<QuantizationError> WireErrors { get; init; } = [];

    /// <summary>How often each micro-batch cut ("4+4") was chosen by measured costs over the run, warm-up included.</summary>
    public IReadOnlyDictionary<string, long> MicroBatchCuts { get; init; } = new Dictionary<string, long>();

    /// <summary>A pipeline's stages' measured cost per run at each batch size, at the end of the run (empty for data parallel).</summary>
    public IReadOnlyList<BatchCost[]> StageCosts { get; init; } = [];

    /// <summary>The single process's best round.</summary>
    public ClusterBenchRow Single => Rounds.Select(r => r.Single).MaxBy(r => r.RowsPerSecond)!;

    /// <summary>The side-by-side sessions' best round.</summary>
    public ClusterBenchRow SideBySide => Rounds.Select(r => r.SideBySide).MaxBy(r => r.RowsPerSecond)!;

    /// <summary>The distributed run's best round.</summary>
    public ClusterBenchRow Distributed => Rounds.Select(r => r.Distributed).MaxBy(r => r.RowsPerSecond)!;

    /// <summary>Each stage's best round alone (empty for data parallel).</summary>
    public IReadOnlyList<ClusterBenchRow> Stages =>
        Rounds[0].Stages.Count == 0 ? [] : [.. Enumerable.Range(0, Rounds[0].Stages.Count).Select(k => Rounds.Select(r => r.Stages[k]).MaxBy(s => s.RowsPerSecond)!)];

    /// <summary>Each stage's best round beside itself (empty for data parallel).</summary>
    public IReadOnlyList<ClusterBenchRow> StagesBeside =>
        Rounds[0].StagesBeside.Count == 0 ? [] : [.. Enumerable.Range(0, Rounds[0].StagesBeside.Count).Select(k => Rounds.Select(r => r.StagesBeside[k]).MaxBy(s => s.RowsPerSecond)!)];

    /// <summary>
    /// The pipeline's bound over stage rates (rows/s) <paramref name="stages"/>: min(1 / max t_k, cores / sum t_k) with
    /// t_k = 1 / rate_k, the most rows per second these cores can give stages of those costs (NaN without stages).
    /// </summary>
    public static double Bound(IReadOnlyList<ClusterBenchRow> stages, int cores) =>
        stages.Count == 0 ? double.NaN : Math.Min(stages.Min(s => s.RowsPerSecond), cores / stages.Sum(s => 1 / s.RowsPerSecond));

    /// <summary>The bound over each stage timed alone on an otherwise idle machine (the published one, issue 19).</summary>
    public double BoundAlone => Bound(Stages, Environment.ProcessorCount);

    /// <summary>The bound over each stage timed beside itself, every core computing (what a full pipeline's stages cost).</summary>
    public double BoundBeside => Bound(StagesBeside, Environment.ProcessorCount);

    /// <summary>Distributed throughput over the single process's, best round over best round.</summary>
    public double SpeedUp => Distributed.RowsPerSecond / Single.RowsPerSecond;

    /// <summary>Pipeline throughput over its slowest stage's alone (NaN for data parallel).</summary>
    public double OfSlowestStage => Stages.Count == 0 ? double.NaN : Distributed.RowsPerSecond / Stages.Min(s => s.RowsPerSecond);

    public string Text()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"model {Path.GetFileName(Settings.ModelPath)}, batch {BatchRows}, {Settings.Threads} thread(s) per process, {Environment.ProcessorCount} cores, wire {WireDataTypeNames.Name(Settings.Wire)}");
        for (int r = 0; r < Rounds.Count; r++)
        {
            text.AppendLine(c, $"round {r + 1}:");
            foreach (var row in new[] { Rounds[r].Single, Rounds[r].SideBySide, Rounds[r].Distributed }.Concat(Rounds[r].Stages).Concat(Rounds[r].StagesBeside)) Line(text, row);
        }

        text.AppendLine(c, $"best of {Rounds.Count} round(s):");
        foreach (var row in new[] { Single, SideBySide, Distributed }.Concat(Stages).Concat(StagesBeside)) Line(text, row);

        text.AppendLine(c, $"tensor bytes between the processes per batch: {WireBytesPerBatch}");
        // The runner stops before timing anything when an output differs on a float32 wire, so a result means identical bits.
        if (Settings.Wire == WireDataType.Float32) text.AppendLine("outputs bit-identical to the single process: yes");
        foreach (var e in WireErrors)
        {
            string top1 = e.Rows == 0 ? "" : string.Create(c, $", arg-max over the last axis agrees in {e.Top1Agreement:P2} of {e.Rows} rows");
            text.AppendLine(c, $"output '{e.Output}' against the single process: max abs {e.MaxAbs:G3}, cosine {e.Cosine:F9}{top1}");
        }

        if (MicroBatchCuts.Count > 0) text.AppendLine(c, $"micro-batch cuts chosen: {string.Join(", ", MicroBatchCuts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} x{kv.Value}"))}");
        for (int s = 0; s < StageCosts.Count; s++)
        {
            text.AppendLine(c, $"stage {s} measured: {string.Join(", ", StageCosts[s].Select(b => string.Create(c, $"{b.Rows} rows {b.SecondsPerRun * 1e3:F2} ms ({b.Runs} runs)")))}");
        }

        text.Append(c, $"speed-up over the single process: {SpeedUp:F2}x");
        if (Stages.Count > 0) text.Append(c, $"\nthroughput / slowest stage alone: {OfSlowestStage:F2}");
        if (Stages.Count > 0) text.Append(c, $"\nbound over the stages alone: {BoundAlone:F1} rows/s, throughput / it {Distributed.RowsPerSecond / BoundAlone:F2}");
        if (StagesBeside.Count > 0) text.Append(c, $"\nbound over the stages beside themselves: {BoundBeside:F1} rows/s, throughput / it {Distributed.RowsPerSecond / BoundBeside:F2}");
        return text.ToString();
    }

    private static void Line(StringBuilder text, ClusterBenchRow row)
    {
        var c = CultureInfo.InvariantCulture;
        string cpu = row.CoordinatorCpuMsPerRow is { } coordinator
            ? string.Create(c, $"cpu {row.CpuMsPerRow:F3} ms/row on the workers, {coordinator:F3} on the coordinator")
            : string.Create(c, $"cpu {row.CpuMsPerRow:F3} ms/row");
        text.AppendLine(c, $"  {row.Name,-36} {row.RowsPerSecond,10:F1} rows/s   median {row.MedianMs,9:F2} ms per batch   {cpu}   ({row.Runs} runs, {row.InFlight} in flight)");
    }

    public string Json()
    {
        static object Row(ClusterBenchRow r) => new
        {
            name = r.Name, in_flight = r.InFlight, rows_per_s = r.RowsPerSecond, median_ms = r.MedianMs, runs = r.Runs,
            cpu_ms_per_row = r.CpuMsPerRow, coordinator_cpu_ms_per_row = r.CoordinatorCpuMsPerRow,
        };
        return JsonSerializer.Serialize(new
        {
            model = Settings.ModelPath,
            strategy = Settings.Strategy,
            workers = Settings.Workers,
            threads = Settings.Threads,
            batch = BatchRows,
            cores = Environment.ProcessorCount,
            rows = new[] { Single, Distributed }.Select(Row),
            stages = Stages.Select(Row),
            stages_beside = StagesBeside.Select(Row),
            side_by_side = Row(SideBySide),
            rounds = Rounds.Select(r => new { single = Row(r.Single), side_by_side = Row(r.SideBySide), distributed = Row(r.Distributed), stages = r.Stages.Select(Row), stages_beside = r.StagesBeside.Select(Row) }),
            speed_up = SpeedUp,
            of_slowest_stage = Stages.Count == 0 ? (double?)null : OfSlowestStage,
            bound_rows_per_s = Stages.Count == 0 ? (double?)null : BoundAlone,
            bound_beside_rows_per_s = StagesBeside.Count == 0 ? (double?)null : BoundBeside,
            micro_batch_cuts = MicroBatchCuts,
            stage_costs = StageCosts.Select(s => s.Select(b => new { rows = b.Rows, runs = b.Runs, seconds_per_run = b.SecondsPerRun })),
            wire_dtype = WireDataTypeNames.Name(Settings.Wire),
            wire_bytes_per_batch = WireBytesPerBatch,
            bit_identical = Settings.Wire == WireDataType.Float32,
            wire_errors = WireErrors.Select(e => new { output = e.Output, max_abs = e.MaxAbs, cosine = e.Cosine, top1_agreement = e.Rows == 0 ? (double?)null : e.Top1Agreement, rows = e.Rows }),
        });
    }
}
