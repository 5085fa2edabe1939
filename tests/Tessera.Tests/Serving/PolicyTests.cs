using Tessera.Serving.Scheduling;

namespace Tessera.Tests.Serving;

/// <summary>The replica policies on their own, with hand-set measurements.</summary>
public sealed class PolicyTests
{
    [Fact]
    public void LeastWorkWeighsOutstandingRowsByMeasuredSpeed()
    {
        var replicas = new[] { new ReplicaState(0, 1), new ReplicaState(1, 1) };
        replicas[0].Record(rows: 10, seconds: 0.010); // 1 ms per row
        replicas[1].Record(rows: 10, seconds: 0.030); // 3 ms per row
        var policy = new LeastWorkPolicy();
        Assert.Equal(0, policy.Choose(replicas, rows: 4, maxInflight: 8));

        // 10 rows outstanding on the fast replica: (10 + 4) × 1 ms > (0 + 4) × 3 ms.
        replicas[0].InflightBatches = 1;
        replicas[0].InflightRows = 10;
        Assert.Equal(1, policy.Choose(replicas, rows: 4, maxInflight: 8));

        // A full replica is never chosen; with every replica full the batch waits.
        Assert.Equal(1, policy.Choose(replicas, rows: 4, maxInflight: 1));
        replicas[1].InflightBatches = 1;
        Assert.Equal(-1, policy.Choose(replicas, rows: 4, maxInflight: 1));
    }

    [Fact]
    public void LeastWorkSeesAnotherModelsRowsOnASharedWorker()
    {
        var (w0, w1) = (new WorkerLoad(), new WorkerLoad());
        var a = new[] { new ReplicaState(0, 1, [w0]), new ReplicaState(1, 1, [w1]) };
        var b = new ReplicaState(0, 1, [w0]); // another model's replica on worker 0
        foreach (var r in a) r.Record(rows: 10, seconds: 0.010);
        var policy = new LeastWorkPolicy();
        Assert.Equal(0, policy.Choose(a, rows: 4, maxInflight: 8)); // alike and idle: the first

        // Model b keeps worker 0 busy; model a has nothing of its own in flight on it, yet sends its batch to worker 1.
        b.Dispatched(10);
        Assert.Equal(0, a[0].InflightRows);
        Assert.Equal(10, a[0].OutstandingRows);
        Assert.Equal(1, policy.Choose(a, rows: 4, maxInflight: 8));

        b.Finished(10);
        Assert.Equal(0, policy.Choose(a, rows: 4, maxInflight: 8));
    }

    [Fact]
    public void LeastWorkTriesAReplicaPassedOverForLongAgain()
    {
        var replicas = new[] { new ReplicaState(0, 1), new ReplicaState(1, 1) };
        var policy = new LeastWorkPolicy();
        replicas[0].Record(1, 0.001);
        replicas[1].Record(1, 1.0); // one very slow run
        // The fast replica takes the work until the slow one has been passed over ProbeAfter times; then it is probed.
        var chosen = Enumerable.Range(0, LeastWorkPolicy.ProbeAfter + 2).Select(_ => policy.Choose(replicas, 1, 1)).ToArray();
        Assert.All(chosen[..^1], c => Assert.Equal(0, c));
        Assert.Equal(1, chosen[^1]);
    }

    [Fact]
    public void RoundRobinWaitsForTheReplicaWhoseTurnItIs()
    {
        var replicas = new[] { new ReplicaState(0, 1), new ReplicaState(1, 1) };
        var policy = new RoundRobinPolicy();
        Assert.Equal(0, policy.Choose(replicas, 1, 1));
        replicas[0].InflightBatches = 1;
        Assert.Equal(1, policy.Choose(replicas, 1, 1));
        replicas[1].InflightBatches = 1;
        replicas[0].InflightBatches = 0;
        Assert.Equal(0, policy.Choose(replicas, 1, 1));
        replicas[0].InflightBatches = 1;
        Assert.Equal(-1, policy.Choose(replicas, 1, 1)); // replica 1's turn, and it is busy
    }

    [Fact]
    public void RoundRobinFollowsDeclaredWeightsInAFixedRotation()
    {
        var replicas = new[] { new ReplicaState(0, 1), new ReplicaState(1, 3) };
        var policy = new RoundRobinPolicy();
        int[] turns = [.. Enumerable.Range(0, 8).Select(_ => policy.Choose(replicas, 1, 1))];
        Assert.Equal([1, 0, 1, 1, 1, 0, 1, 1], turns);
    }
}
