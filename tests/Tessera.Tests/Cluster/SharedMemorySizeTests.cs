using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>TESSERA_SHARED_MEMORY: the sizes it accepts, and a clear refusal of anything else (never a silent default).</summary>
public sealed class SharedMemorySizeTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Theory]
    [InlineData(null, 32L << 20)]
    [InlineData("", 32L << 20)]
    [InlineData(" 64 ", 64L << 20)]
    [InlineData("off", 0L)]
    [InlineData("OFF", 0L)]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L << 20)]
    public void AcceptsOffOrMiB(string? value, long bytes) => Assert.Equal(bytes, SharedMemorySize.Parse(value));

    [Theory]
    [InlineData("abc")]
    [InlineData("4097")]
    [InlineData("-1")]
    [InlineData("32MiB")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public void RefusesAnythingElse(string value)
    {
        var e = Assert.Throws<ClusterException>(() => SharedMemorySize.Parse(value));
        Assert.Equal($"TESSERA_SHARED_MEMORY must be 'off' or a whole number of MiB from 0 to 4096, not '{value}'", e.Message);
    }

    [Fact]
    public void TheCliRefusesABadValueInOneLine()
    {
        string model = _fx.Save(ClusterFixture.Whole(4, 8, 3), "m.onnx");
        string input = Path.Combine(_fx.Directory, "x.npy");
        NpyFormat.WriteFile(input, ClusterFixture.Random([2, 4], 4));
        var refused = CliProcess.Run(new Dictionary<string, string> { ["TESSERA_SHARED_MEMORY"] = "lots\n" }, "run", "--model", model, "--input", "x=" + input, "--output-dir", Path.Combine(_fx.Directory, "out"), "--workers", "1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("tessera: TESSERA_SHARED_MEMORY must be 'off' or a whole number of MiB from 0 to 4096, not 'lots'", refused.Stderr.Trim());
    }
}
