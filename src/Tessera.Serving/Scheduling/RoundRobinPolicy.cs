namespace Tessera.Serving.Scheduling;

/// <summary>
/// Static: replicas take batches in a fixed rotation, whatever their measured speed; when the replica whose turn it
/// is is full, the batch waits for it. The rotation follows the declared speeds (a plan's replica weights) by smooth
/// weighted round robin: with weights 1 and 3 the turns are 1, 0, 1, 1; with equal weights batch k goes to k mod n.
/// </summary>
internal sealed class RoundRobinPolicy : IReplicaPolicy
{
    // Per replica, its credit: every turn adds each replica's weight, the chosen one pays the total.
    private double[] _credit = [];

    public int Choose(ReplicaState[] replicas, int rows, int maxInflight)
    {
        if (_credit.Length != replicas.Length)
        {
            _credit = new double[replicas.Length];
        }

        int chosen = 0;
        for (int i = 1; i < replicas.Length; i++)
        {
            if (_credit[i] + replicas[i].DeclaredSpeed > _credit[chosen] + replicas[chosen].DeclaredSpeed)
            {
                chosen = i;
            }
        }

        if (replicas[chosen].InflightBatches >= maxInflight)
        {
            return -1; // the turn is not taken, so the same replica is chosen again once it has room
        }

        double total = 0;
        for (int i = 0; i < replicas.Length; i++)
        {
            _credit[i] += replicas[i].DeclaredSpeed;
            total += replicas[i].DeclaredSpeed;
        }

        _credit[chosen] -= total;
        return chosen;
    }
}
