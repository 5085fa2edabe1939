using Tessera.Cluster.Execution;
using Tessera.Cluster.Transport;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>A pipeline request cut into micro-batches: each piece's outputs read into its rows of the whole, or joined by copy.</summary>
public sealed class MicroBatchesTests
{
    private static readonly Tensor X = Tensor.FromArray(Enumerable.Range(0, 8 * 3).Select(i => (float)i).ToArray(), 8, 3);

    /// <summary>y = 2x per piece, written where the placement says (when there is one), as the frame reader does.</summary>
    private static Task<IReadOnlyDictionary<string, Tensor>> Double(IReadOnlyDictionary<string, Tensor> piece, OutputPlacement? place)
    {
        var x = piece["x"];
        var y = place?.Invoke("y", DataType.Float32, x.Shape) ?? Tensor.Allocate(DataType.Float32, x.Shape);
        var source = x.ToArray<float>();
        var target = y.Span<float>();
        for (int i = 0; i < source.Length; i++) target[i] = 2 * source[i];
        return Task.FromResult<IReadOnlyDictionary<string, Tensor>>(new Dictionary<string, Tensor> { ["y"] = y });
    }

    private static Task<IReadOnlyDictionary<string, Tensor>> Run(Func<IReadOnlyDictionary<string, Tensor>, OutputPlacement?, Task<IReadOnlyDictionary<string, Tensor>>> run, IReadOnlyDictionary<string, Tensor>? into, int stages = 3) =>
        MicroBatches.RunAsync(new Dictionary<string, Tensor> { ["x"] = X }, 8, stages, MicroBatches.PerStage, _ => 0, ["y"], _ => 0, run, into);

    private static float[] Expected => [.. X.ToArray<float>().Select(v => 2 * v)];

    [Fact]
    public async Task PiecesAreReadIntoTheirRowsOfTheCallersTensor()
    {
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        int pieces = 0;
        var result = await Run((piece, place) => { Interlocked.Increment(ref pieces); return Double(piece, place); }, new Dictionary<string, Tensor> { ["y"] = mine });
        Assert.Equal(6, pieces); // min(8 rows, 2 per stage x 3 stages)
        Assert.Same(mine, result["y"]);
        Assert.Equal(Expected, mine.ToArray<float>());
    }

    [Fact]
    public async Task WithoutCallerTensorsThePiecesShareOneWholeOutput()
    {
        var result = await Run(Double, into: null);
        Assert.Equal([8, 3], result["y"].Shape);
        Assert.Equal(Expected, result["y"].ToArray<float>());
    }

    [Fact]
    public async Task OneStageSendsTheRequestWholeIntoTheCallersTensor()
    {
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        int pieces = 0;
        var result = await Run((piece, place) => { Interlocked.Increment(ref pieces); return Double(piece, place); }, new Dictionary<string, Tensor> { ["y"] = mine }, stages: 1);
        Assert.Equal(1, pieces);
        Assert.Same(mine, result["y"]);
        Assert.Equal(Expected, mine.ToArray<float>());
    }

    [Fact]
    public async Task PiecesThatIgnoreThePlacementAreJoinedByCopy()
    {
        var mine = Tensor.Allocate(DataType.Float32, [8, 3]);
        var result = await Run((piece, _) => Double(piece, null), new Dictionary<string, Tensor> { ["y"] = mine });
        Assert.NotSame(mine, result["y"]); // joined fresh; the caller (PlanClusterRunner) copies it into its tensor
        Assert.Equal(Expected, result["y"].ToArray<float>());
    }
}
