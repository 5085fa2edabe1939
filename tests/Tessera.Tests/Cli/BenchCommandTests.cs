using System.Text.Json;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera bench` through the real process: one-line errors for bad arguments, and the fields of --json.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Y = X @ W with X [N,K] fed and W [K,N] an initializer; plus an int64 input that is just passed through.</summary>
    private string MatMulModel(int k, int n)
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "N", k)
            .Input("ids", DataType.Int64, "N", 2)
            .Initializer("w", Tensor.AllocateZeroed(DataType.Float32, [k, n]))
            .Node("MatMul", ["x", "w"], ["y"])
            .Node("Identity", ["ids"], ["ids_out"])
            .Output("y")
            .Output("ids_out")
            .Build();
        string path = Path.Combine(_dir, "matmul.onnx");
        ModelWriter.Save(model, path);
        return path;
    }

    private static void AssertOneLineError(CliProcess.Result r, string expectedFragment)
    {
        Assert.NotEqual(0, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.StartsWith("tessera: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
        Assert.DoesNotContain("   at ", r.Stdout + r.Stderr);
    }

    private static CliProcess.Result Bench(string model, params string[] more) => CliProcess.Run(["bench", "--model", model, .. more]);

    [Fact]
    public void ArgumentMistakesAreOneLine()
    {
        string model = MatMulModel(3, 2);
        string[] shapes = ["--shape", "x=4x3", "--shape", "ids=4x2"];
        AssertOneLineError(Bench(Path.Combine(_dir, "nope.onnx")), "does not exist");
        AssertOneLineError(Bench(model, [.. shapes, "--iterations", "0"]), "--iterations must be 1 or more");
        AssertOneLineError(Bench(model, [.. shapes, "--warmup", "-1"]), "--warmup must be 0 or more");
        AssertOneLineError(Bench(model, [.. shapes, "--threads", "-2"]), "--threads must be 0 or more");
        AssertOneLineError(Bench(model, [.. shapes, "--max-seconds", "0"]), "--max-seconds must be more than 0");
        AssertOneLineError(Bench(model), "symbolic dimension 'N'");
        AssertOneLineError(Bench(model, "--shape", "x"), "must be NAME=D1xD2");
        AssertOneLineError(Bench(model, "--shape", "x=4xq"), "'q' is not a dimension");
        AssertOneLineError(Bench(model, "--shape", "nope=4x3"), "no input named 'nope'");
        AssertOneLineError(Bench(model, "--shape", "x=4x3", "--shape", "x=4x3"), "input 'x' is given twice");
        AssertOneLineError(Bench(model, "--shape", "x=4x3", "--shape", "ids=4x2:5..1"), "the range 5..1 is empty");
        AssertOneLineError(Bench(model, "--shape", "x=4x3", "--shape", "ids=4x2:a..b"), "must be a range LO..HI");
        AssertOneLineError(Bench(model, "--shape", "x=4x5", "--shape", "ids=4x2"), "has shape [4,5], but the model expects [N,3]");
        AssertOneLineError(Bench(model, "--shape", "x=4x3", "--input", "ids"), "must be NAME=FILE");
    }

    [Fact]
    public void JsonHasTheMeasurements()
    {
        string model = MatMulModel(3, 2);
        string ids = Path.Combine(_dir, "ids.npy");
        NpyFormat.WriteFile(ids, Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 5, 2));
        var r = Bench(model, "--shape", "x=5x3", "--input", $"ids={ids}", "--warmup", "2", "--iterations", "7", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);

        using var json = JsonDocument.Parse(r.Stdout);
        var root = json.RootElement;
        foreach (string field in new[] { "median_ms", "p90_ms", "min_ms", "mean_ms", "max_ms", "throughput_per_s", "items_per_s", "gflops_per_s", "cpu_ms_per_inference" })
        {
            Assert.True(root.GetProperty(field).GetDouble() > 0, $"{field} should be positive");
        }

        Assert.True(root.GetProperty("min_ms").GetDouble() <= root.GetProperty("median_ms").GetDouble());
        Assert.True(root.GetProperty("median_ms").GetDouble() <= root.GetProperty("p90_ms").GetDouble());
        Assert.Equal(7, root.GetProperty("iterations").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(5, root.GetProperty("batch").GetInt32());
        Assert.Equal(5 * root.GetProperty("throughput_per_s").GetDouble(), root.GetProperty("items_per_s").GetDouble(), 6);
        Assert.Equal(2.0 * 5 * 2 * 3, root.GetProperty("flops").GetDouble());
        Assert.Equal(0, root.GetProperty("flop_nodes_unknown").GetInt32());
        Assert.True(root.GetProperty("peak_working_set_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("allocated_bytes_per_inference").GetDouble() >= 0);
        foreach (string gen in new[] { "gen0_per_inference", "gen1_per_inference", "gen2_per_inference" })
        {
            Assert.True(root.GetProperty(gen).GetDouble() >= 0);
        }

        Assert.Equal(["x float32[5,3]", "ids int64[5,2]"], root.GetProperty("inputs").EnumerateArray().Select(e => e.GetString()!).Order().Reverse());
    }

    [Fact]
    public void TextReportNamesEveryMeasurement()
    {
        var r = Bench(MatMulModel(4, 4), "--shape", "x=2x4", "--shape", "ids=2x2:0..9", "--warmup", "0", "--iterations", "3", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (string fragment in new[] { "latency: median", "p90", "min", "inferences/s", "items/s", "GFLOP/s", "peak working set", "allocated per inference", "gen0" })
        {
            Assert.Contains(fragment, r.Stdout);
        }
    }

    [Fact]
    public void ProfileGivesTimePerOperatorAndSlowestNodes()
    {
        string model = MatMulModel(8, 8);
        var r = Bench(model, "--shape", "x=4x8", "--shape", "ids=4x2", "--warmup", "1", "--iterations", "5", "--profile", "--top", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(r.Stdout);
        var profile = json.RootElement.GetProperty("profile");
        Assert.Equal(5, profile.GetProperty("runs").GetInt32());
        var ops = profile.GetProperty("operators").EnumerateArray().ToDictionary(o => o.GetProperty("op_type").GetString()!, o => o);
        Assert.Equal(["Identity", "MatMul"], ops.Keys.Order());
        Assert.All(ops.Values, o => Assert.True(o.GetProperty("ms_per_inference").GetDouble() >= 0));
        Assert.Single(profile.GetProperty("slowest_nodes").EnumerateArray());
        Assert.True(profile.GetProperty("total_ms_per_inference").GetDouble() <= json.RootElement.GetProperty("max_ms").GetDouble());

        var text = Bench(model, "--shape", "x=4x8", "--shape", "ids=4x2", "--iterations", "2", "--profile");
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("profile: 2 runs", text.Stdout);
        Assert.Contains("slowest 2 nodes:", text.Stdout);
        AssertOneLineError(Bench(model, "--shape", "x=4x8", "--shape", "ids=4x2", "--profile", "--top", "0"), "--top must be 1 or more");
    }
}
