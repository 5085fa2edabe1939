using Tessera.Cluster.Deployments;
using Tessera.Tensors;
using Tessera.Tests.Telemetry;

namespace Tessera.Tests.Cluster;

/// <summary>
/// What the deployment's per-batch code allocates on the common path: one placement taking the whole batch, read into
/// the caller's tensor. It runs on the coordinator's frame thread for every batch (issue 19), where LINQ, closures and
/// a dictionary per batch cost allocations and shared-generic lookups.
/// </summary>
[Collection(InProcessTelemetryCollection.Name)] // a tracer listening in this process would add its spans' bytes
public sealed class DeploymentAllocationTests
{
    // Measured on this path (FakeStage answering at once, synchronously, so every byte is this thread's): 4,743 bytes
    // per batch before issue 19's change (LINQ, closures, a ConcurrentDictionary per batch), 2,759 after, 2,383 with
    // BatchSplit.Counts' LINQ sort gone too. What is left
    // is mostly needed per batch (the answer's dictionary, the input slice, tasks) or FakeStage's own (a copy of x, its
    // answer's dictionary, a completed task).
    private const long MaxBytesPerBatch = 2_900;

    [Fact]
    public async Task AWholeBatchOnOnePlacementAllocatesLittleOnTheDeploymentsPath()
    {
        var model = new DeploymentModel(["x"], ["y"], new Dictionary<string, int> { ["x"] = 0 }, new Dictionary<string, int> { ["y"] = 0 });
        await using var deployment = new Deployment("alloc", model, new PlacementSet([new Placement([new FakeStage("a")], ["y"])]));
        var inputs = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(Enumerable.Range(0, 8 * 3).Select(i => (float)i).ToArray(), 8, 3) };
        var into = new Dictionary<string, Tensor> { ["y"] = Tensor.Allocate(DataType.Float32, [8, 3]) };
        for (int i = 0; i < 100; i++) await deployment.RunAsync(inputs, into: into); // JIT and tiering

        const int Batches = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Batches; i++)
        {
            var task = deployment.RunAsync(inputs, into: into);
            Assert.True(task.IsCompleted, "the fake stage answers at once: the batch completes on this thread");
            Assert.Same(into["y"], (await task)["y"]); // completed: the await goes on on this thread
        }

        long perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / Batches;
        Assert.True(perBatch <= MaxBytesPerBatch, $"{perBatch} bytes per batch (at most {MaxBytesPerBatch})");
        Assert.Equal(Enumerable.Range(0, 24).Select(i => 2f * i), into["y"].ToArray<float>());
    }
}
