using Tessera.Cluster.Execution;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Shard replies read straight into their rows of one batch-sized output.</summary>
public sealed class ShardedOutputsTests
{
    [Fact]
    public void ShardsReadIntoTheirRowsJoinWithoutACopy()
    {
        var outputs = new ShardedOutputs([0, 3], [3, 2]);
        var first = outputs.For(0)("y", DataType.Float32, [3, 4])!;
        var second = outputs.For(1)("y", DataType.Float32, [2, 4])!;
        first.Span<float>().Fill(1);
        second.Span<float>().Fill(2);

        var whole = outputs.Join("y", [first, second]);
        Assert.Equal([5, 4], whole.Shape);
        Assert.Equal(Enumerable.Repeat(1f, 12).Concat(Enumerable.Repeat(2f, 8)), whole.ToArray<float>());
        Assert.Same(whole.StorageOwner, first.StorageOwner);
    }

    [Fact]
    public void ShardsAreReadIntoTheCallersOwnOutputTensor()
    {
        var mine = Tensor.Allocate(DataType.Float32, [5, 4]);
        var outputs = new ShardedOutputs([0, 3], [3, 2], new Dictionary<string, Tensor> { ["y"] = mine });
        var first = outputs.For(0)("y", DataType.Float32, [3, 4])!;
        var second = outputs.For(1)("y", DataType.Float32, [2, 4])!;
        first.Span<float>().Fill(3);
        second.Span<float>().Fill(4);
        Assert.Same(mine, outputs.Join("y", [first, second]));
        Assert.Equal(Enumerable.Repeat(3f, 12).Concat(Enumerable.Repeat(4f, 8)), mine.ToArray<float>());
    }

    [Fact]
    public void TensorsThatDoNotFitArePlacedNowhereAndJoinByCopy()
    {
        var outputs = new ShardedOutputs([0, 3], [3, 2]);
        Assert.Null(outputs.For(0)("scalar", DataType.Float32, []));
        Assert.Null(outputs.For(1)("y", DataType.Float32, [3, 4]));
        Assert.NotNull(outputs.For(0)("y", DataType.Float32, [3, 4]));
        // Same output, another inner shape or type than the first shard's: not placed.
        Assert.Null(outputs.For(1)("y", DataType.Float32, [2, 5]));
        Assert.Null(outputs.For(1)("y", DataType.Int64, [2, 4]));

        // A shard that came back fresh (e.g. the placement was refused): the parts are concatenated.
        var placed = outputs.For(0)("z", DataType.Int32, [3])!;
        placed.Span<int>().Fill(7);
        var fresh = Tensor.FromArray(new[] { 8, 9 }, 2);
        var joined = outputs.Join("z", [placed, fresh]);
        Assert.Equal([7, 7, 7, 8, 9], joined.ToArray<int>());
        Assert.NotSame(joined.StorageOwner, placed.StorageOwner);
    }
}
