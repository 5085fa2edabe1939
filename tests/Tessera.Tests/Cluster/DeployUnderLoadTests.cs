using System.Diagnostics;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Deployments;
using Tessera.Cluster.Membership;
using Tessera.Onnx.Graph;
using Tessera.Partitioning.Planning;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Deploys on a loaded host (issue 19: "the connection is closed" at load ~27): the caller of a connect must not run
/// inside the socket's completion, where its work (a deployment's planning) would hold every socket of the process;
/// and a worker that goes down while the model is shipped to it (frozen here with SIGSTOP, as a starved or restarting
/// worker looks) makes the deployment place the model again once the worker is back, instead of failing the deploy.
/// </summary>
public sealed class DeployUnderLoadTests : IDisposable
{
    private const int K = 16, N = 32;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task AConnectedCoordinatorGoesOnOutsideTheSocketsCompletion()
    {
        using var worker = _fx.StartWorker();
        await using var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions);

        // No synchronization context here (the test framework's would move the continuation itself): it runs where the
        // connect completed. Where socket completions run inline (workers, batch, bench-cluster), inside a socket's
        // completion is the socket engine's one thread.
        var frames = await Task.Run(async () =>
        {
            await coordinator.ConnectAsync(worker.Address);
            return new StackTrace().GetFrames();
        });

        Assert.DoesNotContain(frames, f => f.GetMethod()?.DeclaringType?.Namespace == "System.Net.Sockets");
    }

    [Fact]
    public async Task AWorkerThatGoesDownWhileTheModelIsPlacedGetsItOnceBack()
    {
        var model = ClusterFixture.Whole(K, N, 71);
        model.Graph.Outputs[0].Shape = [Dimension.Named("N"), Dimension.Known(K)];
        string path = _fx.Save(model, "m.onnx");
        using var a = _fx.StartWorker();
        using var b = _fx.StartWorker();
        await using var coordinator = await _fx.CoordinatorAsync(a, b);
        Member[] members = [.. coordinator.Workers.Select((w, i) => new Member(new ClusterNode { Name = $"w{i}", Address = w.Address, MemoryBytes = 1L << 30 }, w))];
        var onB = coordinator.Workers[1];

        // b is up when the deployment reads its members and freezes right after: the model's query to it goes
        // unanswered until the heartbeat marks it down; it is let go on as soon as that is seen.
        int reads = 0;
        IReadOnlyList<Member> Members()
        {
            if (Interlocked.Increment(ref reads) == 1) b.Signal("STOP");
            return members;
        }

        var resumed = Task.Run(async () =>
        {
            var waited = Stopwatch.StartNew();
            while (onB.IsUp && waited.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(20);
            b.Signal("CONT");
        });

        var options = new DeploymentOptions { Grace = MachineLoad.Stretch(TimeSpan.FromSeconds(15)) };
        try
        {
            var request = new PlacementRequest(path, model, DeploymentStrategy.Data);
            await using var deployment = await Deployment.StartAsync("m", new Replacement(coordinator, Members, request), options).WaitAsync(TimeSpan.FromSeconds(120));
            await resumed.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(reads >= 2, "the deployment placed the model once only");
            Assert.Equal(2, deployment.Placements.Count);
            Assert.Contains(deployment.Placements, p => p.Workers.Contains(onB));
            var x = ClusterFixture.Random([6, K], 72);
            var y = await deployment.RunAsync(new Dictionary<string, Tensor> { ["x"] = x }).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(ClusterFixture.Reference(model, "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());
        }
        finally
        {
            b.Signal("CONT");
        }
    }
}
