using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;

namespace Tessera.Partitioning.Pipeline;

/// <summary>
/// How a pipeline cuts its share of a batch into micro-batches: the count, with even sizes (they differ by at most one
/// row), whose pieces finish soonest by the stages' measured cost curves. More pieces shrink the bubble (the first
/// piece's trip through the stages before the last stage starts, and the last one's after the first stage is done)
/// but each runs at its own batch size's cost per row and pays a fixed cost per stage (a frame each way, a wake-up);
/// and stages that share cores cannot all compute at once, so their total work bounds the time as well. With other
/// batches in flight on the pipeline the bubble is theirs to fill: a batch then costs its trip through the stages over
/// the batches in flight, no less than its busiest stage's work, and cutting it only pays where that trip still shows.
/// With at least as many batches in flight as stages the pipeline is full: every stage has a batch to work on, there is
/// no bubble to fill, and the batch goes whole whatever the curves say (<see cref="IsFull"/>).
/// </summary>
public static class MicroBatchSchedule
{
    // A candidate with more pieces must be this much faster to be chosen: closer is within the curve's noise, and
    // fewer pieces cost fewer frames and wake-ups than the model counts.
    private const double Margin = 0.02;

    // Cutting a batch at all must be this much faster than sending it whole. The costs compared come from runs of
    // different sizes at different times, on machines whose speed moves by more than the small margin from one minute
    // to the next (a 3-stage GPT stage's CPU per row by 10-20% between bench-cluster rounds on the 2-core VM); a
    // pipeline kept full by other batches gains only what smaller pieces save per row, which for such a stage is within
    // that noise, and with the small margin it went back and forth between whole batches and 1-row pieces that cost
    // the workers about 1.4x the CPU per row (2.45 ms against 1.75 whole, load 13-19). A batch alone gains its bubble,
    // far more than this.
    private const double CutMargin = 0.10;

    /// <summary>
    /// The piece sizes, largest first, for <paramref name="rows"/> rows through <paramref name="stages"/> (one curve
    /// per stage, none empty), of which <paramref name="concurrency"/> can compute at once; each piece costs each stage
    /// <paramref name="pieceOverhead"/> seconds beyond its curve; at most <paramref name="maxPieces"/> pieces;
    /// <paramref name="inFlight"/> batches, this one among them, kept going on the pipeline at once.
    /// </summary>
    public static int[] Choose(int rows, IReadOnlyList<BatchCostCurve> stages, int concurrency, double pieceOverhead, int maxPieces, int inFlight = 1)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), "a schedule needs at least one row");
        if (stages.Count == 0 || stages.Any(s => s.IsEmpty)) throw new ArgumentException("every stage needs a measured cost curve", nameof(stages));
        if (IsFull(inFlight, stages.Count)) return [rows];
        double whole = Finish([rows], stages, concurrency, pieceOverhead, inFlight);
        int[]? best = null;
        double bestSeconds = double.PositiveInfinity;
        for (int count = 2; count <= Math.Min(rows, maxPieces); count++)
        {
            int[] sizes = Even(rows, count);
            double seconds = Finish(sizes, stages, concurrency, pieceOverhead, inFlight);
            if (seconds < bestSeconds * (1 - Margin))
            {
                (best, bestSeconds) = (sizes, seconds);
            }
        }

        return best is not null && bestSeconds < whole * (1 - CutMargin) ? best : [rows];
    }

    /// <summary>
    /// Whether <paramref name="inFlight"/> batches (this one among them) keep a pipeline of <paramref name="stages"/>
    /// stages full: each stage has one to work on, so pieces shorten no wait, and all they could win is a cost per row
    /// under the whole batch's. The curves cannot tell that: each size is timed while the stages share the cores with
    /// each other and with whatever else runs, at other moments than the sizes it is compared with, and on the 2-core VM
    /// the 3-stage GPT pipeline's 2-row runs measured 3-7 % under its 8-row ones per row while batches were in flight
    /// (the 10 % margin against noise did not always cover it), while 1-row runs cost the workers 1.6-2.1x the CPU per
    /// row of 8-row ones (PipelineTrace). A size truly cheaper per row would be the engine's to use in one process too.
    /// </summary>
    public static bool IsFull(int inFlight, int stages) => inFlight >= stages;

    /// <summary><paramref name="rows"/> cut into <paramref name="count"/> pieces whose sizes differ by at most one, largest first.</summary>
    public static int[] Even(int rows, int count) => BatchSplit.Counts(rows, Enumerable.Repeat(1.0, count).ToArray());

    /// <summary>
    /// The seconds one batch cut into <paramref name="pieces"/> holds the pipeline. Alone (<paramref name="inFlight"/>
    /// 1) that is when its last piece leaves the last stage, all starting at once: a piece enters a stage when that
    /// stage has finished the piece before and the stage before has finished this piece. With <paramref name="inFlight"/>
    /// batches kept going, that trip overlaps theirs, so a batch costs the trip over <paramref name="inFlight"/> (the
    /// closed-loop bound: throughput is at most the batches in flight over the time one takes alone). Never less than
    /// its busiest stage's work, nor the stages' total work spread over the <paramref name="concurrency"/> of them
    /// that can compute at once.
    /// </summary>
    public static double Finish(IReadOnlyList<int> pieces, IReadOnlyList<BatchCostCurve> stages, int concurrency, double pieceOverhead, int inFlight = 1)
    {
        var done = new double[stages.Count]; // when each stage finished the latest piece
        var busy = new double[stages.Count]; // each stage's work over all pieces
        double work = 0;
        foreach (int rows in pieces)
        {
            double ready = 0; // when the stage before finished this piece
            for (int s = 0; s < stages.Count; s++)
            {
                double seconds = stages[s].SecondsFor(rows) + pieceOverhead;
                work += seconds;
                busy[s] += seconds;
                done[s] = Math.Max(done[s], ready) + seconds;
                ready = done[s];
            }
        }

        double trip = done[^1] / Math.Max(1, inFlight);
        return Math.Max(Math.Max(trip, busy.Max()), work / Math.Clamp(concurrency, 1, stages.Count));
    }
}
