using Tessera.Engine;
using Tessera.Kernels.Collective;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Kernels.Collective;

/// <summary>The com.tessera AllReduce and AllGather operators run through real sessions, one per rank.</summary>
public sealed class CollectiveKernelTests
{
    private static OnnxModel Collective(string opType, params NodeAttribute[] attributes)
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 2, 3)
            .Node("Mul", ["x", "two"], ["y"], "double")
            .Initializer("two", Tensor.Scalar(2f))
            .Node(opType, ["y"], ["z"], "collective", attributes)
            .Output("z")
            .Build();
        model.Graph.Nodes[^1].Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        return model;
    }

    private static Tensor Input(int rank) => Tensor.FromArray(Enumerable.Range(0, 6).Select(i => (float)((rank * 10) + i)).ToArray(), 2, 3);

    private static (Tensor? Result, Exception? Error)[] RunRanks(OnnxModel model, int size, TimeSpan timeout, int present = -1)
    {
        var group = new InMemoryCollectiveGroup(size, timeout);
        var sessions = Enumerable.Range(0, size).Select(r => new InferenceSession(model, new SessionOptions { Communicator = group.Communicators[r] })).ToArray();
        return CollectiveTestRanks.Run(present < 0 ? size : present, rank => sessions[rank].Run(new Dictionary<string, Tensor> { ["x"] = Input(rank) })["z"]);
    }

    [Fact]
    public void AllReduceSumsTheRanksTensors()
    {
        var results = RunRanks(Collective("AllReduce", GraphBuilder.Str("key", "r")), 3, TimeSpan.FromSeconds(10));
        float[] expected = Enumerable.Range(0, 6).Select(i => (float)(2 * ((0 + i) + (10 + i) + (20 + i)))).ToArray();
        Assert.All(results, r =>
        {
            Assert.Null(r.Error);
            Assert.Equal([2, 3], r.Result!.Shape);
            Assert.Equal(expected, r.Result.ToArray<float>());
        });
    }

    [Theory]
    [InlineData(0, new[] { 4, 3 })]
    [InlineData(1, new[] { 2, 6 })]
    [InlineData(-1, new[] { 2, 6 })]
    public void AllGatherConcatenatesAlongTheAxisInRankOrder(int axis, int[] shape)
    {
        var results = RunRanks(Collective("AllGather", GraphBuilder.Str("key", "g"), GraphBuilder.Int("axis", axis)), 2, TimeSpan.FromSeconds(10));

        // Independent reference: the two ranks' doubled inputs concatenated along the axis.
        var a = Input(0).ToArray<float>().Select(v => v * 2).ToArray();
        var b = Input(1).ToArray<float>().Select(v => v * 2).ToArray();
        float[] expected = axis == 0
            ? [.. a, .. b]
            : [.. a[..3], .. b[..3], .. a[3..], .. b[3..]];
        Assert.All(results, r =>
        {
            Assert.Null(r.Error);
            Assert.Equal(shape, r.Result!.Shape);
            Assert.Equal(expected, r.Result.ToArray<float>());
        });
    }

    [Fact]
    public void ASessionWithoutACommunicatorIsRefusedWithAClearMessage()
    {
        var ex = Assert.Throws<InferenceException>(() => new InferenceSession(Collective("AllReduce", GraphBuilder.Str("key", "r"))));
        Assert.Contains("needs a collective communicator", ex.Message);
    }

    [Fact]
    public void MissingAttributesAreReported()
    {
        var options = new SessionOptions { Communicator = new InMemoryCollectiveGroup(1).Communicators[0] };
        var noKey = Assert.Throws<InferenceException>(() => new InferenceSession(Collective("AllReduce"), options));
        Assert.Contains("'key'", noKey.Message);
        var noAxis = Assert.Throws<InferenceException>(() => new InferenceSession(Collective("AllGather", GraphBuilder.Str("key", "g")), options));
        Assert.Contains("'axis'", noAxis.Message);
    }

    [Fact]
    public void APeerThatNeverRunsFailsTheRunWithTheNodeAndTheMissingRank()
    {
        var results = RunRanks(Collective("AllReduce", GraphBuilder.Str("key", "r")), 2, TimeSpan.FromMilliseconds(300), present: 1);
        var ex = Assert.IsType<InferenceException>(results[0].Error);
        Assert.Contains("node 'collective' (AllReduce)", ex.Message);
        Assert.Contains("rank 1 of 2 did not arrive", ex.Message);
        Assert.DoesNotContain("internal error", ex.Message);
    }
}
