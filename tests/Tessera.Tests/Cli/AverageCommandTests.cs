using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Aggregation;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera average` through the real process: the written model, external data, bad weights, mismatches.</summary>
public sealed class AverageCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-average-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(OnnxModel model, string name, string? external = null)
    {
        string path = Path.Combine(_dir, name);
        ModelWriter.Save(model, path, external);
        return path;
    }

    private static void AssertOneLineError(CliProcess.Result r, string expectedFragment)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.NotEqual(3, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.StartsWith("tessera: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
    }

    [Fact]
    public void AveragesThreeModelsOneWithExternalDataAndTheResultRuns()
    {
        var models = new[] { ModelAveragingTests.Perturbed(11), ModelAveragingTests.Perturbed(12), ModelAveragingTests.Perturbed(13) };
        string a = Save(models[0], "a.onnx", external: "a.weights");
        string b = Save(models[1], "b.onnx");
        string c = Save(models[2], "c.onnx");
        string output = Path.Combine(_dir, "out", "avg.onnx");

        var r = CliProcess.Run("average", "--model", a, "--model", b, "--model", c, "--weights", "1,1,2", "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"averaged 3 models into {output} (parameters in avg.onnx.data)", r.Stdout);
        Assert.Contains("weights      a.onnx 0.25, b.onnx 0.25, c.onnx 0.5 (normalised to sum 1)", r.Stdout);
        Assert.Contains("averaged     8 floating point tensors (9,089 values)", r.Stdout);

        // The first model kept its weights outside, so the result does too; it loads from there.
        Assert.True(new FileInfo(output).Length < 9089 * 4);
        Assert.True(File.Exists(Path.Combine(_dir, "out", "avg.onnx.data")));
        var averaged = ModelReader.Load(output);
        foreach (string name in models[0].Graph.Initializers.Keys)
        {
            Assert.Equal(ModelAveragingTests.Reference(models, [0.25, 0.25, 0.5], name), averaged.Graph.Initializers[name].ToArray<float>());
        }

        Assert.Equal("a.onnx:0.25,b.onnx:0.25,c.onnx:0.5", averaged.Metadata["tessera.average"]);
        var input = Tensor.FromArray(Enumerable.Range(0, 200).Select(i => i / 200f).ToArray(), 2, 100);
        var y = new InferenceSession(averaged).Run(new Dictionary<string, Tensor> { ["input"] = input })["output"];
        Assert.Equal([2, 1], y.Shape);
    }

    [Fact]
    public void InlineModelsGiveAnInlineResultWithEqualWeights()
    {
        string a = Save(ModelAveragingTests.Perturbed(1), "m1.onnx");
        string b = Save(ModelAveragingTests.Perturbed(2), "m2.onnx");
        string output = Path.Combine(_dir, "avg.onnx");
        var r = CliProcess.Run("average", "--model", a, "--model", b, "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("weights      m1.onnx 0.5, m2.onnx 0.5 (equal)", r.Stdout);
        Assert.False(File.Exists(output + ".data"));
        Assert.True(new FileInfo(output).Length > 9089 * 4);
    }

    [Fact]
    public void BadArgumentsAreOneLine()
    {
        string a = Save(ModelAveragingTests.Perturbed(1), "a.onnx");
        string b = Save(ModelAveragingTests.Perturbed(2), "b.onnx");
        string output = Path.Combine(_dir, "o.onnx");
        CliProcess.Result Average(params string[] more) => CliProcess.Run(["average", "--model", a, "--model", b, "--out", output, .. more]);

        AssertOneLineError(Average("--weights", "0.3"), "--weights: 1 weight(s) for 2 models");
        AssertOneLineError(Average("--weights", "0.3,0.5,0.2"), "--weights: 3 weight(s) for 2 models");
        AssertOneLineError(Average("--weights", "1,-2"), "--weights: weight 2 is -2: weights must be finite numbers 0 or more");
        AssertOneLineError(Average("--weights", "NaN,1"), "weight 1 is NaN");
        AssertOneLineError(Average("--weights", "1,Infinity"), "weight 2 is Infinity");
        AssertOneLineError(Average("--weights", "0,0"), "the weights sum to 0");
        AssertOneLineError(Average("--weights", "1,x"), "--weights: 'x' is not a number");
        AssertOneLineError(CliProcess.Run("average", "--model", a, "--out", output), "at least two models");
        AssertOneLineError(CliProcess.Run("average", "--model", a, "--model", Path.Combine(_dir, "nope.onnx"), "--out", output), "does not exist");
        AssertOneLineError(Average("--external-data", "../x.data"), "must be a file name");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void DifferentGraphsExitThreeWithOneLinePerDifference()
    {
        var other = ModelAveragingTests.Perturbed(2);
        var relu = other.Graph.Nodes[1];
        var sigmoid = new OnnxNode { OpType = "Sigmoid", Name = relu.Name };
        sigmoid.Inputs.AddRange(relu.Inputs);
        sigmoid.Outputs.AddRange(relu.Outputs);
        other.Graph.Nodes[1] = sigmoid;
        other.Graph.Initializers["layers.3.bias"] = Tensor.FromArray(new[] { 1f, 2f }, 2);
        other.OpsetImports[""] = 17;
        string a = Save(ModelAveragingTests.Perturbed(1), "a.onnx");
        string b = Save(other, "b.onnx");
        var r = CliProcess.Run("average", "--model", a, "--model", b, "--out", Path.Combine(_dir, "o.onnx"));
        Assert.Equal(3, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [
                "tessera: the models do not share one architecture (3 differences, compared with a.onnx):",
                "  opset ai.onnx: 13 in a.onnx, 17 in b.onnx",
                "  node 1 '/Relu': Relu in a.onnx, Sigmoid in b.onnx",
                "  initializer 'layers.3.bias': float32[1] in a.onnx, float32[2] in b.onnx",
            ],
            lines);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "o.onnx")));
    }
}
