namespace Tessera.Serving.Scheduling;

/// <summary>Static: batch k goes to replica k mod n; when that replica is full the batch waits for it.</summary>
internal sealed class RoundRobinPolicy : IReplicaPolicy
{
    private int _next;

    public int Choose(ReplicaState[] replicas, int rows, int maxInflight)
    {
        int chosen = _next;
        if (replicas[chosen].InflightBatches >= maxInflight)
        {
            return -1;
        }

        _next = (chosen + 1) % replicas.Length;
        return chosen;
    }
}
