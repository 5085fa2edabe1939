using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>`tessera run --workers N` through the real CLI: local workers started and stopped, same bits as one process.</summary>
public sealed class RunWorkersTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void DataParallelRunMatchesOneProcessBitForBit()
    {
        string model = _fx.Save(ClusterFixture.Whole(16, 32, 21), "m.onnx");
        string input = Path.Combine(_fx.Directory, "x.npy");
        NpyFormat.WriteFile(input, ClusterFixture.Random([7, 16], 22));
        string one = Path.Combine(_fx.Directory, "one"), two = Path.Combine(_fx.Directory, "two");

        var local = CliProcess.Run("run", "--model", model, "--input", "x=" + input, "--output-dir", one);
        Assert.True(local.ExitCode == 0, local.Stderr);
        var cluster = CliProcess.Run("run", "--model", model, "--input", "x=" + input, "--output-dir", two, "--workers", "2", "--strategy", "data");
        Assert.True(cluster.ExitCode == 0, cluster.Stderr);

        var expected = NpyFormat.ReadFile(Path.Combine(one, "y.npy"));
        var actual = NpyFormat.ReadFile(Path.Combine(two, "y.npy"));
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>());

        var refused = CliProcess.Run("run", "--model", model, "--input", "x=" + input, "--output-dir", two, "--workers", "-1");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.StartsWith("tessera: --workers must be 0 or more", refused.Stderr);
    }
}
