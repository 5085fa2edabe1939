using System.Collections.Concurrent;
using System.Diagnostics;
using Tessera.Batch.Results;

namespace Tessera.Batch.Scheduling;

/// <summary>
/// How far a job is, for a progress display: records done (before this run, from the journal, and in it), the rate
/// of this run and each worker's records and busy seconds in it. Updated by the lanes as batches come back.
/// </summary>
public sealed class BatchProgress(long total, long doneBefore)
{
    private readonly Stopwatch _clock = new();
    private readonly ConcurrentDictionary<string, WorkerWork> _workers = new(StringComparer.Ordinal);
    private long _done;

    public long Total { get; } = total;

    /// <summary>Records whose shards an earlier run wrote.</summary>
    public long DoneBefore { get; } = doneBefore;

    /// <summary>Records this run has had answered (their shards may still be being written).</summary>
    public long DoneNow => Interlocked.Read(ref _done);

    public TimeSpan Elapsed => _clock.Elapsed;

    public double RecordsPerSecond => DoneNow / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Time left at this run's rate; null before the first answer.</summary>
    public TimeSpan? Remaining => DoneNow == 0 ? null : TimeSpan.FromSeconds((Total - DoneBefore - DoneNow) / RecordsPerSecond);

    /// <summary>Each worker's work in this run, by name, in name order.</summary>
    public IReadOnlyList<KeyValuePair<string, WorkerWork>> Workers => [.. _workers.OrderBy(kv => kv.Key, StringComparer.Ordinal)];

    /// <summary>The run starts: the rate and time left count from here (not from the checks and the deployment before).</summary>
    internal void Start() => _clock.Start();

    internal void Answered(string worker, int records, double seconds)
    {
        Interlocked.Add(ref _done, records);
        _workers.AddOrUpdate(worker, new WorkerWork(records, seconds), (_, had) => had.Plus(new WorkerWork(records, seconds)));
    }
}
