using System.Text.Json;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera bench-cluster` through the real process, with real local workers: rounds, best rounds and ratios in --json.</summary>
public sealed class BenchClusterCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-bench-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Relu(X @ W1) @ W2 on X [N,16]: two MatMuls, so a pipeline has something to split.</summary>
    private string TwoLayerModel()
    {
        var rng = new Random(5);
        Tensor Weight() => Tensor.FromArray(Enumerable.Range(0, 16 * 16).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 16, 16);
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "N", 16)
            .Initializer("w1", Weight())
            .Initializer("w2", Weight())
            .Node("MatMul", ["x", "w1"], ["h"])
            .Node("Relu", ["h"], ["r"])
            .Node("MatMul", ["r", "w2"], ["y"])
            .Output("y")
            .Build();
        string path = Path.Combine(_dir, "two-layer.onnx");
        ModelWriter.Save(model, path);
        return path;
    }

    private static JsonElement Run(params string[] args)
    {
        var r = CliProcess.Run(["bench-cluster", .. args, "--seconds", "0.3", "--warmup", "1", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    private static double Rate(JsonElement row) => row.GetProperty("rows_per_s").GetDouble();

    [Fact]
    public void DataParallelReportsEachSidesBestRound()
    {
        var root = Run("--model", TwoLayerModel(), "--shape", "x=8x16", "--strategy", "data", "--workers", "2", "--rounds", "2");
        var rounds = root.GetProperty("rounds").EnumerateArray().ToArray();
        Assert.Equal(2, rounds.Length);
        double bestSingle = rounds.Max(r => Rate(r.GetProperty("single")));
        double bestSpread = rounds.Max(r => Rate(r.GetProperty("distributed")));
        Assert.All(rounds, r => Assert.True(Rate(r.GetProperty("single")) > 0 && Rate(r.GetProperty("distributed")) > 0));
        var best = root.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(bestSingle, Rate(best[0]));
        Assert.Equal(bestSpread, Rate(best[1]));
        Assert.Equal(bestSpread / bestSingle, root.GetProperty("speed_up").GetDouble(), 9);
        Assert.True(root.GetProperty("bit_identical").GetBoolean());
        Assert.Equal(8, root.GetProperty("batch").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("of_slowest_stage").ValueKind);

        // CPU per row: the single process's own; the workers' (which did the compute) and the coordinator's apart.
        Assert.All(rounds, r =>
        {
            Assert.True(r.GetProperty("single").GetProperty("cpu_ms_per_row").GetDouble() > 0);
            Assert.Equal(JsonValueKind.Null, r.GetProperty("single").GetProperty("coordinator_cpu_ms_per_row").ValueKind);
            Assert.True(r.GetProperty("distributed").GetProperty("cpu_ms_per_row").GetDouble() > 0);
            Assert.True(r.GetProperty("distributed").GetProperty("coordinator_cpu_ms_per_row").GetDouble() > 0);
        });
    }

    [Fact]
    public void APipelineTimesEveryStageAloneInEveryRound()
    {
        var root = Run("--model", TwoLayerModel(), "--shape", "x=8x16", "--strategy", "pipeline", "--workers", "2", "--rounds", "2");
        var rounds = root.GetProperty("rounds").EnumerateArray().ToArray();
        Assert.Equal(2, rounds.Length);
        Assert.All(rounds, r => Assert.Equal(2, r.GetProperty("stages").GetArrayLength()));
        var stages = root.GetProperty("stages").EnumerateArray().ToArray();
        Assert.Equal(2, stages.Length);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(rounds.Max(r => Rate(r.GetProperty("stages")[k])), Rate(stages[k]));
        }

        double spread = Rate(root.GetProperty("rows")[1]);
        Assert.Equal(spread / stages.Min(Rate), root.GetProperty("of_slowest_stage").GetDouble(), 9);

        // By default the deployment's window, a batch per stage and one more; every batch the pipeline ran was cut by measured costs,
        // and what the stages measured (the costs it chose from) comes with the result.
        Assert.All(rounds, r => Assert.Equal(3, r.GetProperty("distributed").GetProperty("in_flight").GetInt32()));
        long cut = root.GetProperty("micro_batch_cuts").EnumerateObject().Sum(c => c.Value.GetInt64());
        Assert.True(cut >= rounds.Sum(r => r.GetProperty("distributed").GetProperty("runs").GetInt32()), $"{cut} cuts");
        Assert.Equal(2, root.GetProperty("stage_costs").GetArrayLength());
        Assert.All(root.GetProperty("stage_costs").EnumerateArray(), s => Assert.Contains(s.EnumerateArray(), b => b.GetProperty("rows").GetInt32() == 8 && b.GetProperty("runs").GetInt32() > 0));
    }

    /// <summary>min(slowest stage, cores / sum of the stages' times per row), over stage rates in rows/s.</summary>
    private static double Bound(IEnumerable<JsonElement> stages)
    {
        double[] rates = [.. stages.Select(Rate)];
        return Math.Min(rates.Min(), Environment.ProcessorCount / rates.Sum(r => 1 / r));
    }

    [Fact]
    public void APipelineReportsItsBoundOverTheStagesAloneAndBesideThemselves()
    {
        var root = Run("--model", TwoLayerModel(), "--shape", "x=8x16", "--strategy", "pipeline", "--workers", "2", "--rounds", "2");
        var rounds = root.GetProperty("rounds").EnumerateArray().ToArray();
        // As many sessions of each stage at once as the side-by-side row runs of the whole model (one per core, at most one per worker).
        int copies = Math.Clamp(Environment.ProcessorCount, 1, 2);
        Assert.All(rounds, r =>
        {
            var beside = r.GetProperty("stages_beside").EnumerateArray().ToArray();
            Assert.Equal(2, beside.Length);
            Assert.All(beside, s => Assert.True(s.GetProperty("in_flight").GetInt32() == copies && Rate(s) > 0 && s.GetProperty("cpu_ms_per_row").GetDouble() > 0));
            Assert.Equal(copies, r.GetProperty("side_by_side").GetProperty("in_flight").GetInt32());
        });

        var stagesBeside = root.GetProperty("stages_beside").EnumerateArray().ToArray();
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(rounds.Max(r => Rate(r.GetProperty("stages_beside")[k])), Rate(stagesBeside[k]));
        }

        Assert.Equal(Bound(root.GetProperty("stages").EnumerateArray()), root.GetProperty("bound_rows_per_s").GetDouble(), 9);
        Assert.Equal(Bound(stagesBeside), root.GetProperty("bound_beside_rows_per_s").GetDouble(), 9);

        // Data parallel has neither.
        var data = Run("--model", TwoLayerModel(), "--shape", "x=8x16", "--strategy", "data", "--workers", "2", "--rounds", "1");
        Assert.Equal(0, data.GetProperty("stages_beside").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, data.GetProperty("bound_beside_rows_per_s").ValueKind);
    }

    [Fact]
    public void ArgumentMistakesAreOneLine()
    {
        string model = TwoLayerModel();
        foreach (var (args, fragment) in new[]
        {
            (new[] { "--rounds", "0" }, "--rounds must be 1 or more"),
            (["--in-flight", "0"], "--in-flight must be 1 or more"),
            (["--micro-batches-per-stage", "0"], "--micro-batches-per-stage must be 1 or more"),
            (["--seconds", "0"], "--seconds must be more than 0"),
        })
        {
            var r = CliProcess.Run(["bench-cluster", "--model", model, "--shape", "x=8x16", .. args]);
            Assert.NotEqual(0, r.ExitCode);
            string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
            Assert.Contains(fragment, lines[0]);
        }
    }

    [Fact]
    public void APipelineTraceIntoAMissingFolderMakesItAndOneThatCannotBeWrittenIsSaidNotThrown()
    {
        string model = TwoLayerModel();
        string[] args = ["bench-cluster", "--model", model, "--shape", "x=8x16", "--strategy", "pipeline", "--workers", "2",
            "--rounds", "1", "--seconds", "0.3", "--warmup", "1", "--json"];

        // A prefix in a folder not made yet: every process (the bench and its workers) writes its timeline there.
        string prefix = Path.Combine(_dir, "not", "yet", "t");
        var made = CliProcess.Run(new Dictionary<string, string> { ["TESSERA_PIPELINE_TRACE"] = prefix }, args);
        Assert.True(made.ExitCode == 0, made.Stderr);
        string[] files = Directory.GetFiles(Path.GetDirectoryName(prefix)!, "t.*.tsv");
        Assert.Contains(files, f => Path.GetFileName(f).StartsWith("t.bench-cluster.", StringComparison.Ordinal));
        Assert.Contains(files, f => Path.GetFileName(f).StartsWith("t.worker.", StringComparison.Ordinal));
        Assert.All(files, f => Assert.StartsWith("kind\tid\tstage", File.ReadAllText(f)));

        // A prefix under a regular file cannot be written: the bench still runs, and says so once per process.
        string blocker = Path.Combine(_dir, "a-file");
        File.WriteAllText(blocker, "");
        var refused = CliProcess.Run(new Dictionary<string, string> { ["TESSERA_PIPELINE_TRACE"] = Path.Combine(blocker, "t") }, args);
        Assert.True(refused.ExitCode == 0, refused.Stderr);
        Assert.True(JsonDocument.Parse(refused.Stdout).RootElement.GetProperty("bit_identical").GetBoolean());
        Assert.Contains("tessera: TESSERA_PIPELINE_TRACE: cannot write", refused.Stderr);
        Assert.DoesNotContain("Unhandled", refused.Stderr);
    }
}
