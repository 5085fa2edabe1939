using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// How a pipeline cuts its share of a batch into micro-batches: the count, with even sizes (they differ by at most one
/// row), whose pieces finish soonest by the stages' measured cost curves. More pieces shrink the bubble (the first
/// piece's trip through the stages before the last stage starts, and the last one's after the first stage is done)
/// but each runs at its own batch size's cost per row and pays a fixed cost per stage (a frame each way, a wake-up);
/// and stages that share cores cannot all compute at once, so their total work bounds the time as well.
/// </summary>
public static class MicroBatchSchedule
{
    // A candidate with more pieces must be this much faster to be chosen: closer is within the curve's noise, and
    // fewer pieces cost fewer frames and wake-ups than the model counts.
    private const double Margin = 0.02;

    /// <summary>
    /// The piece sizes, largest first, for <paramref name="rows"/> rows through <paramref name="stages"/> (one curve
    /// per stage, none empty), of which <paramref name="concurrency"/> can compute at once; each piece costs each stage
    /// <paramref name="pieceOverhead"/> seconds beyond its curve; at most <paramref name="maxPieces"/> pieces.
    /// </summary>
    public static int[] Choose(int rows, IReadOnlyList<BatchCostCurve> stages, int concurrency, double pieceOverhead, int maxPieces)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), "a schedule needs at least one row");
        if (stages.Count == 0 || stages.Any(s => s.IsEmpty)) throw new ArgumentException("every stage needs a measured cost curve", nameof(stages));
        int[] best = [rows];
        double bestSeconds = Finish(best, stages, concurrency, pieceOverhead);
        for (int count = 2; count <= Math.Min(rows, maxPieces); count++)
        {
            int[] sizes = Even(rows, count);
            double seconds = Finish(sizes, stages, concurrency, pieceOverhead);
            if (seconds < bestSeconds * (1 - Margin))
            {
                (best, bestSeconds) = (sizes, seconds);
            }
        }

        return best;
    }

    /// <summary><paramref name="rows"/> cut into <paramref name="count"/> pieces whose sizes differ by at most one, largest first.</summary>
    public static int[] Even(int rows, int count) => BatchSplit.Counts(rows, Enumerable.Repeat(1.0, count).ToArray());

    /// <summary>
    /// When the last of <paramref name="pieces"/> leaves the last stage, all starting at once: a piece enters a stage
    /// when that stage has finished the piece before and the stage before has finished this piece; and no sooner than
    /// the stages' total work spread over the <paramref name="concurrency"/> of them that can compute at once.
    /// </summary>
    public static double Finish(IReadOnlyList<int> pieces, IReadOnlyList<BatchCostCurve> stages, int concurrency, double pieceOverhead)
    {
        var done = new double[stages.Count]; // when each stage finished the latest piece
        double work = 0;
        foreach (int rows in pieces)
        {
            double ready = 0; // when the stage before finished this piece
            for (int s = 0; s < stages.Count; s++)
            {
                double seconds = stages[s].SecondsFor(rows) + pieceOverhead;
                work += seconds;
                done[s] = Math.Max(done[s], ready) + seconds;
                ready = done[s];
            }
        }

        return Math.Max(done[^1], work / Math.Clamp(concurrency, 1, stages.Count));
    }
}
