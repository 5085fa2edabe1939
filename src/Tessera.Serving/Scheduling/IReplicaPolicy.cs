namespace Tessera.Serving.Scheduling;

/// <summary>Picks the replica for the next batch. Called under the scheduler's lock.</summary>
internal interface IReplicaPolicy
{
    /// <summary>The replica to run a batch of <paramref name="rows"/> rows, or -1 to wait until one finishes.</summary>
    int Choose(ReplicaState[] replicas, int rows, int maxInflight);

    public static IReplicaPolicy Create(SchedulingPolicyKind kind) => kind switch
    {
        SchedulingPolicyKind.RoundRobin => new RoundRobinPolicy(),
        SchedulingPolicyKind.Dynamic => new LeastWorkPolicy(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
