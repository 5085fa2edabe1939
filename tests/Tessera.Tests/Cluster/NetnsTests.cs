using Tessera.Cluster.Coordinator;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Workers in their own network namespaces, each with its own address, running a pipeline worker to worker.</summary>
public sealed class NetnsTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [NetnsFact]
    public async Task PipelineAcrossNamespacesMatchesOneProcess()
    {
        using var lab = new NetnsLab(2);
        using var a = WorkerProcess.Under(lab.Prefix(0), lab.Addresses[0] + ":0", _fx.TokenFile, _fx.NewCacheDir());
        using var b = WorkerProcess.Under(lab.Prefix(1), lab.Addresses[1] + ":0", _fx.TokenFile, _fx.NewCacheDir());
        Assert.StartsWith(lab.Addresses[0] + ":", a.Address);
        Assert.StartsWith(lab.Addresses[1] + ":", b.Address);

        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(12, 20, 31), "s1.onnx"));
        var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(12, 20, 31), "s2.onnx"));
        var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
        await coordinator.EnsureModelAsync(wa, s1);
        await coordinator.EnsureModelAsync(wb, s2);
        var route = new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]);
        var x = ClusterFixture.Random([4, 12], 32);
        var y = await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
        Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(12, 20, 31), "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());

        // Worker b heard from worker a's namespace address, not from the coordinator's.
        Assert.True(b.WaitForLog($"from {lab.Addresses[0]}:"), b.Log);

        // One host, but other network namespaces: tensors keep TCP, to the coordinator and between the workers.
        Assert.All(coordinator.Workers, w => Assert.Equal("TCP: the peer refused shared memory: another network namespace", w.TensorPath));
        Assert.True(b.WaitForLog("TCP: another network namespace"), b.Log);
        Assert.Empty(SharedMemoryTests.MappedSegments(a.Pid).Concat(SharedMemoryTests.MappedSegments(b.Pid)));
    }
}
