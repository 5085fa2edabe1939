namespace Tessera.Serving.Scheduling;

/// <summary>
/// Dynamic: the replica that would finish the batch first, estimated as (outstanding rows + the batch's rows) ×
/// its measured seconds per row; on workers the outstanding rows are its busiest worker's, from every model placed
/// there (<see cref="ReplicaState.OutstandingRows"/>), counted as rows of this model. A replica not yet measured goes
/// first, so every replica gets measured; before any measurement the declared speeds break ties. A replica passed
/// over for <see cref="ProbeAfter"/> batches is tried again, so one slow measurement (a warm-up, a busy moment) does
/// not exclude it for good.
/// </summary>
internal sealed class LeastWorkPolicy : IReplicaPolicy
{
    public const int ProbeAfter = 64;

    private long _dispatches;
    private long[] _lastChosen = [];

    public int Choose(ReplicaState[] replicas, int rows, int maxInflight)
    {
        if (_lastChosen.Length != replicas.Length)
        {
            _lastChosen = new long[replicas.Length];
        }

        int best = -1;
        double bestCost = double.MaxValue;
        foreach (var r in replicas)
        {
            if (r.InflightBatches >= maxInflight)
            {
                continue;
            }

            bool stale = _dispatches - _lastChosen[r.Index] > ProbeAfter;
            double cost = r.SecondsPerRow > 0 && !stale
                ? (r.OutstandingRows + rows) * r.SecondsPerRow
                : -r.DeclaredSpeed / (1 + r.OutstandingRows); // unmeasured or stale: negative, so it is tried before measured ones
            if (cost < bestCost)
            {
                best = r.Index;
                bestCost = cost;
            }
        }

        if (best >= 0)
        {
            _lastChosen[best] = ++_dispatches;
        }

        return best;
    }
}
