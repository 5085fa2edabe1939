using Tessera.Partitioning.Cost;
using Tessera.Tests.Support;

namespace Tessera.Tests.Partitioning;

/// <summary>`tessera plan`, `tessera run --plan` and `tessera calibrate` through the real executable.</summary>
public sealed class PlanCliTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Cluster(string json)
    {
        string path = _folder.File($"cluster{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Model(string name) => Path.Combine(TestPaths.Cache, "models", name);

    [Fact]
    public void PlanThenRunGivesTheSingleNodeOutputs()
    {
        string cluster = Cluster("""
            {"nodes":[{"name":"a","address":"127.0.0.1:7001","memoryBytes":200000000,"speed":1.0,"threads":1},
                      {"name":"b","address":"127.0.0.1:7002","memoryBytes":200000000,"speed":2.0,"threads":1}],
             "link":{"bandwidthBytesPerSecond":1.25e9,"latencySeconds":0.0002}}
            """);
        var plan = CliProcess.Run("plan", "--model", Model("bert.onnx"), "--cluster", cluster, "--input-shape", "input_ids=3x32",
            "--input-shape", "attention_mask=3x32", "--strategy", "pipeline", "--stages", "2", "--out", _folder.File("plan"));
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Contains("chosen: pipeline 1x2x1", plan.Stdout);
        Assert.Contains("1x2x1   pipeline", plan.Stdout);
        Assert.True(File.Exists(_folder.File("plan/stage1.onnx")));

        string data = Path.Combine(TestPaths.OrtCases, "bert_b3_s32", "test_data_set_0");
        string[] inputs = ["--input", $"input_ids={data}/input_0.pb", "--input", $"attention_mask={data}/input_1.pb"];
        var viaPlan = CliProcess.Run(["run", "--plan", _folder.File("plan/plan.json"), .. inputs, "--output-dir", _folder.File("out-plan")]);
        Assert.True(viaPlan.ExitCode == 0, viaPlan.Stderr);
        Assert.Contains("plan: pipeline, 2 stage(s), 1 replica(s)", viaPlan.Stdout);
        var single = CliProcess.Run(["run", "--model", Model("bert.onnx"), .. inputs, "--output-dir", _folder.File("out-single")]);
        Assert.True(single.ExitCode == 0, single.Stderr);
        foreach (string name in new[] { "last_hidden_state.npy", "pooler_output.npy" })
        {
            Assert.Equal(File.ReadAllBytes(_folder.File($"out-single/{name}")), File.ReadAllBytes(_folder.File($"out-plan/{name}")));
        }
    }

    [Fact]
    public void HybridPlanThenRunAgreesWithTheSingleNode()
    {
        string node(char name) => $"{{\"name\":\"{name}\",\"memoryBytes\":200000000}}";
        string cluster = Cluster($"{{\"nodes\":[{node('a')},{node('b')},{node('c')},{node('d')}]}}");
        var plan = CliProcess.Run("plan", "--model", Model("gpt.onnx"), "--cluster", cluster, "--input-shape", "input_ids=2x24",
            "--strategy", "hybrid", "--stages", "2", "--degree", "2", "--objective", "throughput", "--out", _folder.File("plan"));
        Assert.True(plan.ExitCode == 0, plan.Stderr);
        Assert.Contains("chosen: hybrid 1x2x2", plan.Stdout);
        Assert.Contains("files: stage0.rank0.onnx, stage0.rank1.onnx, stage1.rank0.onnx, stage1.rank1.onnx, plan.json", plan.Stdout);

        string[] inputs = ["--input", $"input_ids={Path.Combine(TestPaths.OrtCases, "gpt_b2_s24", "test_data_set_0")}/input_0.pb"];
        var viaPlan = CliProcess.Run(["run", "--plan", _folder.File("plan/plan.json"), .. inputs, "--output-dir", _folder.File("out-plan")]);
        Assert.True(viaPlan.ExitCode == 0, viaPlan.Stderr);
        Assert.Contains("plan: hybrid, 2 stage(s), 1 replica(s)", viaPlan.Stdout);
        var single = CliProcess.Run(["run", "--model", Model("gpt.onnx"), .. inputs, "--output-dir", _folder.File("out-single")]);
        Assert.True(single.ExitCode == 0, single.Stderr);
        var outputs = Directory.GetFiles(_folder.File("out-single"), "*.npy").Select(Path.GetFileName).ToList();
        Assert.NotEmpty(outputs);
        var expected = outputs.ToDictionary(f => f!, f => Tessera.Tensors.Formats.NpyFormat.ReadFile(_folder.File($"out-single/{f}")));
        var actual = outputs.ToDictionary(f => f!, f => Tessera.Tensors.Formats.NpyFormat.ReadFile(_folder.File($"out-plan/{f}")));
        TensorParallel.ParallelAgreement.AssertAgrees(expected, actual, "gpt, tessera run --plan 1x2x2");
    }

    [Theory]
    [InlineData("{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":0}]}", "tessera: cluster file '")]
    [InlineData("{\"nodes\":[{\"name\":\"a\",\"memoryBytes\":1000}]}", "tessera: no plan fits: ")]
    public void PlanErrorsAreOneLine(string json, string expected)
    {
        var result = CliProcess.Run("plan", "--model", Model("dense.onnx"), "--cluster", Cluster(json), "--input-shape", "input=2x100", "--out", _folder.File("bad"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.StartsWith(expected, result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void RunNeedsExactlyOneOfModelAndPlan()
    {
        var result = CliProcess.Run("run", "--output-dir", _folder.File("o"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("tessera: give either --model or --plan", result.Stderr.Trim());
    }

    [Fact]
    public void CalibrateWritesAProfileThePlannerReads()
    {
        string path = _folder.File("calibration.json");
        var result = CliProcess.Run("calibrate", "--out", path);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var profile = CalibrationProfile.Load(path);
        Assert.True(profile.MatrixProductFlopsPerSecond > 1e8 && profile.ConvolutionFlopsPerSecond > 1e8, File.ReadAllText(path));
        Assert.Equal(Environment.MachineName, profile.Source);
    }
}
