using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>Bad datasets and outputs: one line `tessera: ...`, a non-zero exit, and never an output that looks complete.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly BatchFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void BadDatasetsFailInOneLineWithoutAnOutput()
    {
        var model = new GraphBuilder()
            .Input("a", DataType.Float32, "N", 4)
            .Input("b", DataType.Float32, "N", 4)
            .Node("Add", ["a", "b"], ["y"])
            .Output("y")
            .Build();
        string path = _fx.Cluster.Save(model, "add.onnx");

        Fails(Data("counts", ("a", ClusterFixture.Random([10, 4], 1)), ("b", ClusterFixture.Random([9, 4], 2))), "hold different numbers of records");
        Fails(Data("dtype", ("a", ClusterFixture.Random([10, 4], 1)), ("b", Tensor.FromArray(new int[40], 10, 4))), "holds int32, but the model's input 'b' takes float32");
        Fails(Data("shape", ("a", ClusterFixture.Random([10, 4], 1)), ("b", ClusterFixture.Random([10, 5], 2))), "has records of shape [5]");
        Fails(Data("missing", ("a", ClusterFixture.Random([10, 4], 1))), "has no b.npy for the model's input 'b'");
        string truncated = Data("truncated", ("a", ClusterFixture.Random([10, 4], 1)), ("b", ClusterFixture.Random([10, 4], 2)));
        using (var file = File.Open(Path.Combine(truncated, "b.npy"), FileMode.Open)) file.SetLength(file.Length - 7);
        Fails(truncated, "is truncated: its header declares 10 records");
        string garbage = Data("garbage", ("a", ClusterFixture.Random([10, 4], 1)), ("b", ClusterFixture.Random([10, 4], 2)));
        File.WriteAllText(Path.Combine(garbage, "b.npy"), "not numpy at all");
        Fails(garbage, "cannot read");
        string parquet = _fx.PathOf("broken.parquet");
        File.WriteAllText(parquet, "PAR1 and then nothing a Parquet reader can use");
        Fails(parquet, "cannot read");
        Fails(_fx.PathOf("nowhere"), "does not exist");

        void Fails(string data, string message)
        {
            string output = _fx.PathOf("out-" + Path.GetFileName(data));
            var result = CliProcess.Run("batch", "--model", path, "--data", data, "--out", output);
            Assert.NotEqual(0, result.ExitCode);
            Assert.StartsWith("tessera: ", result.Stderr);
            Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
            Assert.Contains(message, result.Stderr);
            Assert.False(File.Exists(Path.Combine(output, "manifest.json")));
        }
    }

    /// <summary>
    /// Every batch fails in the model (5 records of 3 values cannot be reshaped to pairs): the warm-up batch before
    /// the run drops its failure, so the run's own first batch is what reports it, as a one-line error.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void RecordsTheModelRefusesFailTheJobInOneLine(int workers)
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "N", 3)
            .Initializer("pairs", Tensor.FromArray(new long[] { -1, 2 }, 2))
            .Node("Reshape", ["x", "pairs"], ["y"])
            .Output("y")
            .Build();
        string path = _fx.Cluster.Save(model, "pairs.onnx");
        string data = _fx.NpyData("odd", ClusterFixture.Random([10, 3], 3));
        string output = _fx.PathOf($"out-{workers}");
        string[] args = ["batch", "--model", path, "--data", data, "--out", output, "--batch-size", "5", "--shard-rows", "5"];
        var result = CliProcess.Run(workers > 0 ? [.. args, "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture)] : args);
        Assert.NotEqual(0, result.ExitCode);
        // Workers log the requests they failed on stderr before it; the job's own error is one line, the last.
        string last = result.Stderr.TrimEnd('\n').Split('\n')[^1];
        Assert.StartsWith("tessera: ", last);
        Assert.Contains("Reshape", last);
        Assert.False(File.Exists(Path.Combine(output, "manifest.json")));
    }

    [Fact]
    public void AnOutputHoldingAnotherJobIsRefused()
    {
        string model = _fx.Model(8, 8);
        string first = _fx.NpyData("first", ClusterFixture.Random([40, 8], 1));
        string second = _fx.NpyData("second", ClusterFixture.Random([50, 8], 2));
        string output = _fx.PathOf("out");
        var done = CliProcess.Run("batch", "--model", model, "--data", first, "--out", output, "--shard-rows", "10");
        Assert.True(done.ExitCode == 0, done.Stderr);
        var manifest = File.ReadAllText(Path.Combine(output, "manifest.json"));

        foreach (string[] extra in new[] { Array.Empty<string>(), ["--resume"] })
        {
            var other = CliProcess.Run(["batch", "--model", model, "--data", second, "--out", output, .. extra]);
            Assert.NotEqual(0, other.ExitCode);
            Assert.StartsWith("tessera: ", other.Stderr);
            Assert.Contains("holds another job", other.Stderr);
        }

        // An unfinished job's journal: another dataset is refused, with --resume too.
        File.Delete(Path.Combine(output, "manifest.json"));
        var refused = CliProcess.Run("batch", "--model", model, "--data", second, "--out", output, "--resume");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("holds another job", refused.Stderr);

        string occupied = Directory.CreateDirectory(_fx.PathOf("occupied")).FullName;
        File.WriteAllText(Path.Combine(occupied, "notes.txt"), "mine");
        var notEmpty = CliProcess.Run("batch", "--model", model, "--data", first, "--out", occupied);
        Assert.NotEqual(0, notEmpty.ExitCode);
        Assert.Contains("is not empty and holds no batch journal", notEmpty.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(occupied, "notes.txt")));
        Assert.NotEmpty(manifest);
    }

    private string Data(string name, params (string Input, Tensor Values)[] inputs)
    {
        string dir = Directory.CreateDirectory(_fx.PathOf(name)).FullName;
        foreach (var (input, values) in inputs) NpyFormat.WriteFile(Path.Combine(dir, input + ".npy"), values);
        return dir;
    }
}
