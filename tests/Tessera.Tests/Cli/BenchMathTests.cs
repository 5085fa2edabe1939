using Tessera.Cli.Bench;
using Tessera.Cli.Common;
using Tessera.Onnx.Graph;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>The arithmetic behind `tessera bench`: FLOPs per node kind, latency order statistics, --shape parsing.</summary>
public sealed class BenchMathTests
{
    private static double? Flops(OnnxNode node, Dictionary<string, int[]> shapes) => FlopCounter.NodeFlops(node, name => shapes.GetValueOrDefault(name));

    private static OnnxNode Node(string op, params NodeAttribute[] attributes)
    {
        var node = new OnnxNode { OpType = op, Inputs = { "a", "b" }, Outputs = { "y" } };
        foreach (var a in attributes) node.Attributes[a.Name] = a;
        return node;
    }

    [Fact]
    public void MatMulIsTwoMnkAndBroadcastsBatches()
    {
        Assert.Equal(2.0 * 8 * 16 * 32, Flops(Node("MatMul"), new() { ["a"] = [8, 32], ["b"] = [32, 16], ["y"] = [8, 16] }));
        Assert.Equal(2.0 * 4 * 8 * 16 * 32, Flops(Node("MatMul"), new() { ["a"] = [4, 8, 32], ["b"] = [32, 16], ["y"] = [4, 8, 16] }));
        Assert.Null(Flops(Node("MatMul"), new() { ["a"] = [8, 32] }));
    }

    [Fact]
    public void GemmReadsKFromTheTransposedSide()
    {
        Assert.Equal(2.0 * 8 * 16 * 32, Flops(Node("Gemm"), new() { ["a"] = [8, 32], ["y"] = [8, 16] }));
        Assert.Equal(2.0 * 8 * 16 * 32, Flops(Node("Gemm", GraphBuilder.Int("transA", 1)), new() { ["a"] = [32, 8], ["y"] = [8, 16] }));
    }

    [Fact]
    public void ConvCountsTheWindowPerOutputElement()
    {
        // 3x3 grouped conv, 8 in / 16 out channels in 2 groups: W [16, 4, 3, 3]; output [1, 16, 10, 10].
        Assert.Equal(2.0 * (16 * 10 * 10) * (4 * 3 * 3), Flops(Node("Conv"), new() { ["b"] = [16, 4, 3, 3], ["y"] = [1, 16, 10, 10] }));

        // Transposed: X [1, 8, 5, 5], W [8, 6, 2, 2]: every input element scatters into 6 channels x 2x2.
        Assert.Equal(2.0 * (8 * 5 * 5) * (6 * 2 * 2), Flops(Node("ConvTranspose"), new() { ["a"] = [1, 8, 5, 5], ["b"] = [8, 6, 2, 2], ["y"] = [1, 6, 10, 10] }));
    }

    [Fact]
    public void LatencyStatsUseNearestRankForP90()
    {
        var stats = LatencyStats.From([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        Assert.Equal(5.5, stats.MedianMs);
        Assert.Equal(9, stats.P90Ms);
        Assert.Equal(1, stats.MinMs);
        Assert.Equal(10, stats.MaxMs);
        Assert.Equal(7, LatencyStats.From([7]).P90Ms);
    }

    [Fact]
    public void ShapeSpecsParseDimsAndRanges()
    {
        var spec = ShapeSpec.Parse("input_ids=8x128:0..999");
        Assert.Equal("input_ids", spec.Name);
        Assert.Equal([8, 128], spec.Dims);
        Assert.Equal((0L, 999L), (spec.Low!.Value, spec.High!.Value));
        Assert.Null(ShapeSpec.Parse("x=1x3x224x224").Low);
        Assert.Equal((-5L, 5L), (ShapeSpec.Parse("m=2:-5..5").Low!.Value, ShapeSpec.Parse("m=2:-5..5").High!.Value));
        Assert.Throws<CliException>(() => ShapeSpec.Parse("=1x2"));
        Assert.Throws<CliException>(() => ShapeSpec.Parse("x=1x-2"));
    }
}
