using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>Every user mistake ends the real process with one clear line on stderr and a non-zero exit, never a stack trace.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ModelWith(string opType)
    {
        var model = new GraphBuilder().Input("x", DataType.Float32, "N", 3).Node(opType, ["x"], ["y"], "the_node").Output("y").Build();
        string path = Path.Combine(_dir, opType + ".onnx");
        ModelWriter.Save(model, path);
        return path;
    }

    private string Npy(string name, Tensor t)
    {
        string path = Path.Combine(_dir, name);
        NpyFormat.WriteFile(path, t);
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

    [Fact]
    public void MissingModelFile() =>
        AssertOneLineError(CliProcess.Run("run", "--model", Path.Combine(_dir, "nope.onnx"), "--output-dir", _dir), "does not exist");

    [Fact]
    public void MalformedModelFile()
    {
        string path = Path.Combine(_dir, "garbage.onnx");
        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);
        AssertOneLineError(CliProcess.Run("run", "--model", path, "--output-dir", _dir), "is not a valid ONNX model");
        AssertOneLineError(CliProcess.Run("inspect", path), "is not a valid ONNX model");
    }

    [Fact]
    public void UnsupportedOperatorNamesOperatorAndNode() =>
        AssertOneLineError(CliProcess.Run("run", "--model", ModelWith("NoSuchOp"), "--output-dir", _dir), "unsupported operator NoSuchOp at opset 13 in node 'the_node'");

    [Fact]
    public void InputMistakes()
    {
        string model = ModelWith("Relu");
        string good = Npy("good.npy", Tensor.AllocateZeroed(DataType.Float32, [2, 3]));
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--output-dir", _dir), "missing input 'x'");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", $"wrong={good}", "--output-dir", _dir), "no input named 'wrong'");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", $"x={Npy("i.npy", Tensor.AllocateZeroed(DataType.Int64, [2, 3]))}", "--output-dir", _dir), "must be float32, got int64");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", $"x={Npy("s.npy", Tensor.AllocateZeroed(DataType.Float32, [2, 4]))}", "--output-dir", _dir), "has shape [2,4], but the model expects [N,3]");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", "x", "--output-dir", _dir), "must be NAME=FILE");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", $"x={Path.Combine(_dir, "absent.npy")}", "--output-dir", _dir), "does not exist");

        string truncated = Path.Combine(_dir, "t.npy");
        File.WriteAllBytes(truncated, File.ReadAllBytes(good)[..^4]);
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--input", $"x={truncated}", "--output-dir", _dir), "truncated");
    }

    [Fact]
    public void ClusterTlsOptionsOfRunAreNamedForTheCluster()
    {
        string model = ModelWith("Relu");
        AssertOneLineError(CliProcess.Run("run", "--model", model, "--cluster-tls-key", "k.pem", "--output-dir", _dir), "--cluster-tls-key and --cluster-tls-ca go with --cluster-tls-cert");
        var old = CliProcess.Run("run", "--model", model, "--tls-cert", "c.pem", "--output-dir", _dir);
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("Unrecognized command or argument '--tls-cert'", old.Stderr);
    }

    [Fact]
    public void OnnxTestOnAMissingFolder() =>
        AssertOneLineError(CliProcess.Run("onnx-test", Path.Combine(_dir, "none")), "is not a folder");
}
