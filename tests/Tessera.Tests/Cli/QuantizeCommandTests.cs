using Tessera.Onnx.Io;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>`tessera quantize` as a user runs it: the report on success, one line for each mistake.</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-quantize-").FullName;

    private static string Dense => Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "dense.onnx");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("dynamic")]
    [InlineData("static")]
    public void WritesAStandardModelAndReportsSizeAndError(string mode)
    {
        string output = Path.Combine(_dir, mode + ".onnx");
        string samples = TestPaths.Require(Path.Combine(TestPaths.OrtCases, "dense_b16"));
        var r = CliProcess.Run("quantize", "--model", Dense, "--out", output, "--mode", mode, "--per-channel", "--calibration", samples);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"size: 37,476 → [\d,]+ bytes \(0\.[34]\d\d of the float model\)", r.Stdout);
        Assert.Matches(@"error of \S+ on 2 sample\(s\): max abs \S+, cosine (0\.999\d+|1\.000000)", r.Stdout);
        var model = ModelReader.Load(output);
        Assert.All(model.Graph.Nodes, n => Assert.Equal(string.Empty, n.Domain));
        Assert.Contains(model.Graph.Nodes, n => n.OpType == (mode == "static" ? "QuantizeLinear" : "DynamicQuantizeLinear"));
    }

    [Theory]
    [InlineData("--mode fast", "--mode must be dynamic or static")]
    [InlineData("--mode static", "--mode static needs --calibration DIR")]
    [InlineData("--exclude no_such_node", "--exclude names no node of the model: no_such_node")]
    [InlineData("--ops Softmax", "cannot quantize Softmax")]
    [InlineData("--calibration /nonexistent/folder", "--calibration folder '/nonexistent/folder' does not exist")]
    public void MistakesEndWithOneLine(string options, string expected)
    {
        var r = CliProcess.Run(["quantize", "--model", Dense, "--out", Path.Combine(_dir, "q.onnx"), .. options.Split(' ')]);
        Assert.NotEqual(0, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Stderr);
        Assert.StartsWith("tessera: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }
}
