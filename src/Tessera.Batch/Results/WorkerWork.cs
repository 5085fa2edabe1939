namespace Tessera.Batch.Results;

/// <summary>Records a worker (a placement: one worker, or a pipeline's chain of them) ran and the seconds it was busy with them.</summary>
public sealed record WorkerWork(long Records, double Seconds)
{
    public WorkerWork Plus(WorkerWork other) => new(Records + other.Records, Seconds + other.Seconds);

    /// <summary>Sums work by worker name.</summary>
    public static Dictionary<string, WorkerWork> Total(IEnumerable<IReadOnlyDictionary<string, WorkerWork>> parts)
    {
        var total = new Dictionary<string, WorkerWork>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (name, work) in part) total[name] = total.TryGetValue(name, out var had) ? had.Plus(work) : work;
        }

        return total;
    }
}
