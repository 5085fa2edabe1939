namespace Tessera.Serving.Scheduling;

/// <summary>What the scheduler knows about one replica. Guarded by the owning <see cref="ModelScheduler"/>'s lock.</summary>
internal sealed class ReplicaState
{
    // Weight of the newest run in the moving average of time per row: recent enough to follow a replica that
    // slows down (another model busy on the same cores), smooth enough to ignore one slow run.
    private const double Smoothing = 0.2;

    // A measurement taken after this long without one replaces the average: the old one no longer says much.
    private static readonly long s_staleTicks = 2 * System.Diagnostics.Stopwatch.Frequency;

    private long _lastRecord;

    /// <param name="workers">The loads of the workers the replica runs on (shared with other models there); none in-process.</param>
    public ReplicaState(int index, double declaredSpeed, IReadOnlyList<WorkerLoad>? workers = null)
    {
        Index = index;
        DeclaredSpeed = declaredSpeed;
        Workers = [.. (workers ?? []).Distinct()];
    }

    public int Index { get; }

    public double DeclaredSpeed { get; }

    /// <summary>Batches handed over and not finished.</summary>
    public int InflightBatches { get; set; }

    /// <summary>Rows in those batches: the replica's outstanding work.</summary>
    public long InflightRows { get; set; }

    public IReadOnlyList<WorkerLoad> Workers { get; }

    /// <summary>
    /// The outstanding rows the dynamic policy weighs: on workers, those of the busiest of the replica's workers,
    /// from every model placed there (this replica's own among them); in-process, the replica's own.
    /// </summary>
    public long OutstandingRows => Workers.Count == 0 ? InflightRows : Workers.Max(w => w.InflightRows);

    /// <summary>Moving average of seconds per row; 0 until the first run ends.</summary>
    public double SecondsPerRow { get; private set; }

    public long Batches { get; private set; }

    public long Rows { get; private set; }

    /// <summary>Measured rows per second (0 before the first run).</summary>
    public double RowsPerSecond => SecondsPerRow > 0 ? 1 / SecondsPerRow : 0;

    /// <summary>A batch of <paramref name="rows"/> was handed to the replica.</summary>
    public void Dispatched(int rows)
    {
        InflightBatches++;
        InflightRows += rows;
        foreach (var w in Workers) w.Add(rows);
    }

    /// <summary>A batch of <paramref name="rows"/> ended on the replica (answered or failed).</summary>
    public void Finished(int rows)
    {
        InflightBatches--;
        InflightRows -= rows;
        foreach (var w in Workers) w.Add(-rows);
    }

    public void Record(int rows, double seconds)
    {
        double perRow = seconds / Math.Max(rows, 1);
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        bool stale = now - _lastRecord > s_staleTicks;
        SecondsPerRow = SecondsPerRow == 0 || stale ? perRow : SecondsPerRow + Smoothing * (perRow - SecondsPerRow);
        _lastRecord = now;
        Batches++;
        Rows += rows;
    }
}
