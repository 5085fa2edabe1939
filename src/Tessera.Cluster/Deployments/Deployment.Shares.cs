namespace Tessera.Cluster.Deployments;

// Which placements take a batch and in what shares: read for every batch (on the coordinator's frame thread among
// others), so loops over the placement snapshot, not LINQ (issue 19).
public sealed partial class Deployment
{
    // Measured speeds closer than this are noise on a shared host: the split stays by the declared weights.
    private const double MeasuredSpread = 1.15;

    private Placement? Choose(Placement? preferred, HashSet<Placement>? tried)
    {
        var all = Placements;
        if (preferred is { IsUp: true } && tried?.Contains(preferred) != true)
        {
            foreach (var p in all) if (ReferenceEquals(p, preferred)) return preferred;
        }

        // The live, untried placement with the least work in flight; the first of equals, as MinBy chose.
        Placement? best = null;
        int least = 0;
        foreach (var p in all)
        {
            if (!p.IsUp || tried?.Contains(p) == true) continue;
            int busy = p.Busy;
            if (best is null || busy < least) (best, least) = (p, busy);
        }

        return best;
    }

    private static bool AnyInFlight(Placement?[] shares)
    {
        foreach (var p in shares) if (p!.BatchesInFlight > 0) return true;
        return false;
    }

    private static Placement LeastBusy(Placement?[] shares)
    {
        Placement best = shares[0]!;
        int least = best.Busy;
        for (int i = 1; i < shares.Length; i++)
        {
            int busy = shares[i]!.Busy;
            if (busy < least) (best, least) = (shares[i]!, busy);
        }

        return best;
    }

    /// <summary>
    /// The share of each placement: its measured speed (rows per second) once every one has been measured and they
    /// differ by more than noise; before that, for replicas placed alike, the rate their workers measured at start
    /// when those differ; else the weight it was placed for (a plan's, which knew the speeds it planned for).
    /// </summary>
    private static double[] Weights(Placement?[] shares)
    {
        var weights = new double[shares.Length];
        if (shares.Length == 1)
        {
            // One share takes every row whatever its weight; measured and reported speeds cannot differ from themselves.
            weights[0] = shares[0]?.Weight ?? 1;
            return weights;
        }

        for (int i = 0; i < shares.Length; i++) weights[i] = shares[i]?.SecondsPerRow ?? 0;
        if (Differ(weights))
        {
            for (int i = 0; i < weights.Length; i++) weights[i] = 1 / weights[i];
            return weights;
        }

        bool alike = true;
        for (int i = 0; i < shares.Length; i++)
        {
            weights[i] = shares[i]?.ReportedRate ?? 0;
            alike &= shares[i]?.Weight == 1;
        }

        if (alike && Differ(weights)) return weights;
        for (int i = 0; i < shares.Length; i++) weights[i] = shares[i]?.Weight ?? 1;
        return weights;

        static bool Differ(double[] values)
        {
            double min = double.PositiveInfinity, max = 0;
            foreach (double v in values)
            {
                if (!(v > 0)) return false;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            return max / min >= MeasuredSpread;
        }
    }
}
