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
}
