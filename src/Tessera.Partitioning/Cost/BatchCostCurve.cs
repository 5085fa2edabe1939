namespace Tessera.Partitioning.Cost;

/// <summary>
/// The engine's measured cost of one run of a (sub-)model at each batch size it ran at: the curve a pipeline's
/// micro-batch sizes are chosen against (<see cref="Pipeline.MicroBatchSchedule"/>). Small batches often cost more per
/// row (fixed costs per run, thin matrix products) but not always (a batch whose activations leave the cache costs
/// more), which is why the curve is measured rather than assumed.
/// </summary>
public sealed class BatchCostCurve
{
    private readonly BatchCost[] _points;

    /// <param name="points">Measurements with positive rows and seconds; one per batch size (the one with more runs is kept).</param>
    /// <remarks>
    /// Plain loops, not LINQ: a pipeline's coordinator builds curves whenever its stages' costs move, and with LINQ's
    /// grouping and ordering that was 15-19 of the coordinator's 350-700 samples in 16 s (perf, bench-cluster GPT
    /// 3-stage pipeline, load 26-39), nearly all of them in the runtime (libcoreclr) beneath the constructor.
    /// </remarks>
    public BatchCostCurve(IEnumerable<BatchCost> points)
    {
        var kept = new List<BatchCost>();
        foreach (var p in points)
        {
            if (p.Rows <= 0 || p.Runs <= 0 || !(p.SecondsPerRun > 0) || !double.IsFinite(p.SecondsPerRun)) continue;
            int same = IndexOf(kept, p.Rows);
            if (same < 0) kept.Add(p);
            else if (p.Runs > kept[same].Runs) kept[same] = p;
        }

        kept.Sort(static (a, b) => a.Rows.CompareTo(b.Rows));
        _points = [.. kept];
    }

    private static int IndexOf(List<BatchCost> points, int rows)
    {
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i].Rows == rows) return i;
        }

        return -1;
    }

    public IReadOnlyList<BatchCost> Points => _points;

    public bool IsEmpty => _points.Length == 0;

    /// <summary>How many runs the cost of <paramref name="rows"/> itself was measured over; 0 when it was not.</summary>
    public int RunsAt(int rows)
    {
        foreach (var point in _points)
        {
            if (point.Rows == rows) return point.Runs;
        }

        return 0;
    }

    /// <summary>
    /// Seconds one run of <paramref name="rows"/> rows takes: measured, else interpolated linearly between the measured
    /// sizes around it, else (outside them) the nearest measured size's cost per row times the rows. Outside the
    /// measured range this leans toward sizes not yet tried, which is how they get tried (and measured) at all.
    /// </summary>
    public double SecondsFor(int rows)
    {
        if (_points.Length == 0) throw new InvalidOperationException("the curve has no measurement");
        if (rows <= _points[0].Rows) return rows * _points[0].SecondsPerRow;
        if (rows >= _points[^1].Rows) return rows * _points[^1].SecondsPerRow;
        int above = Array.FindIndex(_points, p => p.Rows >= rows);
        var (lo, hi) = (_points[above - 1], _points[above]);
        if (hi.Rows == rows) return hi.SecondsPerRun;
        double at = (double)(rows - lo.Rows) / (hi.Rows - lo.Rows);
        return lo.SecondsPerRun + (at * (hi.SecondsPerRun - lo.SecondsPerRun));
    }

    public override string ToString() => string.Join(", ", _points.Select(p => $"{p.Rows}: {p.SecondsPerRun * 1e3:0.###} ms"));
}
