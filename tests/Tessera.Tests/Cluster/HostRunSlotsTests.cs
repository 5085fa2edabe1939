using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Worker;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The host's budget of stage runs at once (<see cref="HostRunSlots"/>): no more holders than slots, a waiter goes on
/// when a holder gives its slot back, and the slots of a worker killed (SIGKILL) while it computes come back to the host.
/// </summary>
public sealed class HostRunSlotsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly ClusterFixture _fx = new();
    private readonly List<HostRunSlots> _opened = [];

    public void Dispose()
    {
        foreach (var slots in _opened) slots.Remove();
        _fx.Dispose();
    }

    [Fact]
    public async Task NoMoreRunsHoldSlotsThanTheBudgetAndAWaiterGoesOnWhenOneIsGivenBack()
    {
        string name = NewName();
        var first = Open(name, budget: 2);
        // A second worker of the host opens the same set, whatever budget it would have made.
        var second = Open(name, budget: 5);
        using var release = new SemaphoreSlim(0);
        int holding = 0;
        Task Hold(HostRunSlots slots) => Task.Factory.StartNew(() =>
        {
            slots.Acquire();
            Assert.True(HostRunSlots.HeldHere);
            Interlocked.Increment(ref holding);
            release.Wait();
            Interlocked.Decrement(ref holding);
            slots.Release();
            Assert.False(HostRunSlots.HeldHere);
        }, TaskCreationOptions.LongRunning);

        var a = Hold(first);
        var b = Hold(second);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref holding) == 2, Bound));
        Assert.Equal(0, first.Free);
        var c = Hold(first);
        await Task.Delay(300);
        Assert.Equal(2, Volatile.Read(ref holding));

        // One holder gives its slot back: the waiter takes it, and the host is full again.
        release.Release();
        Assert.True(SpinWait.SpinUntil(() => a.IsCompleted || b.IsCompleted, Bound));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref holding) == 2, Bound), "the waiter did not take the slot given back");
        Assert.Equal(0, second.Free);
        release.Release(2);
        await Task.WhenAll(a, b, c).WaitAsync(Bound);
        Assert.Equal(2, first.Free);
    }

    [Fact]
    public async Task TheSlotOfAWorkerKilledWhileItComputesComesBackToTheHost()
    {
        string name = NewName();
        var slots = Open(name, budget: 1);
        using var worker = _fx.StartWorker(null, "--run-slots", "1", "--run-slots-name", name);
        await using var coordinator = await _fx.CoordinatorAsync(worker);
        var model = ModelFile.FromPath(_fx.Save(Long(), "long.onnx"));
        await coordinator.EnsureModelAsync(coordinator.Workers[0], model);
        var route = new Route([new RouteStep(coordinator.Workers[0], model.Hash, ["x"])]);
        var run = coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = ClusterFixture.Random([M, K], 3) }, ["y"]);

        // The worker computes holding the host's one slot; killed, it cannot give it back itself.
        Assert.True(SpinWait.SpinUntil(() => slots.Free == 0 || run.IsCompleted, Bound), "the worker never took the slot");
        Assert.False(run.IsCompleted, "the run ended before the worker could be killed while computing");
        worker.Signal("KILL");
        Assert.True(SpinWait.SpinUntil(() => slots.Free == 1, TimeSpan.FromSeconds(10)), $"the killed worker's slot did not come back: {slots.Free} free");
        await Task.Factory.StartNew(() =>
        {
            slots.Acquire();
            slots.Release();
        }, TaskCreationOptions.LongRunning).WaitAsync(Bound);
        await Assert.ThrowsAnyAsync<Exception>(() => run);
    }

    private const int M = 512;
    private const int K = 1024;

    /// <summary>x @ w, 32 times over: about 34 Gflop, seconds of one core.</summary>
    private static OnnxModel Long()
    {
        var builder = new GraphBuilder().Input("x", DataType.Float32, M, K).Initializer("w", ClusterFixture.Random([K, K], 1));
        string last = "x";
        for (int i = 0; i < 32; i++)
        {
            builder.Node("MatMul", [last, "w"], [$"h{i}"]);
            last = $"h{i}";
        }

        return builder.Node("Identity", [last], ["y"]).Output("y").Build();
    }

    private static string NewName() => "test-" + Guid.NewGuid().ToString("N");

    private HostRunSlots Open(string name, int budget)
    {
        var slots = HostRunSlots.Open(name, budget, weight: 1) ?? throw new InvalidOperationException("System V semaphores are not available");
        _opened.Add(slots);
        return slots;
    }
}
