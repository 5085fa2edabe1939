namespace Tessera.Serving.Scheduling;

/// <summary>
/// Dynamic: the replica that would finish the batch first, estimated as (outstanding rows + the batch's rows) ×
/// its measured seconds per row. A replica not yet measured goes first, so every replica gets measured; before
/// any measurement the declared speeds break ties.
/// </summary>
internal sealed class LeastWorkPolicy : IReplicaPolicy
{
    public int Choose(ReplicaState[] replicas, int rows, int maxInflight)
    {
        int best = -1;
        double bestCost = double.MaxValue;
        foreach (var r in replicas)
        {
            if (r.InflightBatches >= maxInflight)
            {
                continue;
            }

            double cost = r.SecondsPerRow > 0
                ? (r.InflightRows + rows) * r.SecondsPerRow
                : -r.DeclaredSpeed / (1 + r.InflightRows); // unmeasured: negative, so it is tried before measured ones
            if (cost < bestCost)
            {
                best = r.Index;
                bestCost = cost;
            }
        }

        return best;
    }
}
