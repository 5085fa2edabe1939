namespace Tessera.Serving.Scheduling;

/// <summary>
/// Rows that the schedulers of every model placed on one worker have handed to replicas through it and that are
/// not finished: the worker's outstanding work, one object per worker of the serving cluster, so that the dynamic
/// policy of one model sees the batches another model keeps that worker busy with. Updated under different
/// schedulers' locks, hence atomically.
/// </summary>
internal sealed class WorkerLoad
{
    private long _rows;

    public long InflightRows => Interlocked.Read(ref _rows);

    public void Add(long rows) => Interlocked.Add(ref _rows, rows);
}
