using Tessera.Serving.Repository;

namespace Tessera.Tests.Serving;

/// <summary>How a repository's models are spread over a server's workers (config "workers", or an even split).</summary>
public sealed class WorkerPlacementTests
{
    private static (string, ModelConfig)[] Models(params (string Name, ModelConfig Config)[] models) => models;

    [Fact]
    public void ModelsWithoutAPlacementSplitTheWorkersEvenlyAndDisjointly()
    {
        var placed = WorkerPlacement.Assign(Models(("a", new()), ("b", new()), ("c", new())), 5);
        Assert.Equal([0, 1], placed["a"]);
        Assert.Equal([2, 3], placed["b"]);
        Assert.Equal([4], placed["c"]);
        Assert.Equal([0, 1, 2, 3, 4], WorkerPlacement.Assign(Models(("only", new())), 5)["only"]);
    }

    [Fact]
    public void ExplicitIndicesAndCountsComeFirstAndTheRestShareWhatIsLeft()
    {
        var placed = WorkerPlacement.Assign(Models(
            ("fixed", new ModelConfig { WorkerIndices = [3] }),
            ("two", new ModelConfig { WorkerCount = 2 }),
            ("rest", new())), 5);
        Assert.Equal([3], placed["fixed"]);
        Assert.Equal([0, 1], placed["two"]);
        Assert.Equal([2, 4], placed["rest"]);
    }

    [Fact]
    public void MoreModelsThanWorkersTakeOneWorkerEachInTurn()
    {
        var placed = WorkerPlacement.Assign(Models(("a", new()), ("b", new()), ("c", new())), 2);
        Assert.Equal([0], placed["a"]);
        Assert.Equal([1], placed["b"]);
        Assert.Equal([0], placed["c"]);
    }

    [Fact]
    public void WorkersThatDoNotExistAreRefusedInOneLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => WorkerPlacement.Assign(Models(("a", new ModelConfig { WorkerIndices = [0, 2] })), 2));
        Assert.Equal("model 'a': worker 2 does not exist; the server has workers 0 to 1", e.Message);
        e = Assert.Throws<InvalidDataException>(() => WorkerPlacement.Assign(Models(("a", new ModelConfig { WorkerCount = 3 })), 2));
        Assert.Equal("model 'a' asks for 3 workers; the server has 2", e.Message);
    }

    [Theory]
    [InlineData("{\"workers\": 0}", "workers must be a positive count")]
    [InlineData("{\"workers\": [1, 1]}", "workers must list distinct worker indices")]
    [InlineData("{\"workers\": []}", "workers must list distinct worker indices")]
    [InlineData("{\"strategy\": \"sharded\"}", "strategy must be \"data\", \"pipeline\", \"tensor\" or \"auto\"")]
    public void BadWorkerKeysInAConfigAreRefused(string json, string message)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var e = Assert.Throws<ArgumentException>(() => ModelConfig.Parse(doc.RootElement, new ModelConfig()));
        Assert.Contains(message, e.Message);
    }
}
