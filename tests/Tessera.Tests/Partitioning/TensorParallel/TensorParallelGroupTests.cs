using System.Diagnostics;
using Tessera.Engine;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Partitioning.TensorParallel;

public sealed class TensorParallelGroupTests
{
    /// <summary>z = AllReduce(Reshape(x, shape)): with shape [3], the rank fails on any x that is not 3 long.</summary>
    private static OnnxModel Reducer(long[]? shape)
    {
        var builder = new GraphBuilder().Input("x", DataType.Float32, "n");
        if (shape is null)
        {
            builder.Node("AllReduce", ["x"], ["z"], "sum", GraphBuilder.Str("key", "s"));
        }
        else
        {
            builder.Initializer("shape", Tensor.FromArray(shape, shape.Length))
                .Node("Reshape", ["x", "shape"], ["t"], "reshape")
                .Node("AllReduce", ["t"], ["z"], "sum", GraphBuilder.Str("key", "s"));
        }

        var model = builder.Output("z").Build();
        model.Graph.Nodes[^1].Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        return model;
    }

    [Fact]
    public void ARankThatFailsStopsTheOthersAtOnceAndTheGroupRunsAgainAfterwards()
    {
        using var group = new TensorParallelGroup([Reducer(null), Reducer([3])], new SessionOptions(), TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<InferenceException>(() => group.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new float[4], 4) }));
        Assert.StartsWith("rank 1: node 'reshape' (Reshape)", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"rank 0 waited {clock.Elapsed} for a rank that had failed");

        var ok = group.RunAll(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3) });
        Assert.All(ok, outputs => Assert.Equal([2f, 4f, 6f], outputs["z"].ToArray<float>()));
    }

    [Fact]
    public void ABadInputIsReportedOnceAsTheSessionWouldReportIt()
    {
        using var group = new TensorParallelGroup([Reducer(null), Reducer(null)], new SessionOptions());
        var ex = Assert.Throws<InferenceException>(() => group.Run(new Dictionary<string, Tensor>()));
        var alone = Assert.Throws<InferenceException>(() => new InferenceSession(Reducer(null), new SessionOptions
        {
            Communicator = new Tessera.Kernels.Collective.InMemoryCollectiveGroup(1).Communicators[0],
        }).Run(new Dictionary<string, Tensor>()));
        Assert.Equal(alone.Message, ex.Message);
    }

    [Fact]
    public void AGroupNeedsShardsAndRefusesRunsAfterDispose()
    {
        Assert.Throws<ArgumentException>(() => new TensorParallelGroup([], new SessionOptions()));
        var group = new TensorParallelGroup([Reducer(null)], new SessionOptions());
        Assert.Equal([5f], group.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 5f }, 1) })["z"].ToArray<float>());
        group.Dispose();
        Assert.Throws<ObjectDisposedException>(() => group.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 5f }, 1) }));
    }
}
