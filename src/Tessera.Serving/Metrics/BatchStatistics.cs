using System.Collections.Concurrent;

namespace Tessera.Serving.Metrics;

/// <summary>
/// Per batch size (rows), the batches a model ran and the time they took: merging the requests' inputs, running
/// the model, and cutting the outputs back per request (Triton's batch_stats). Recording is lock-free.
/// </summary>
internal sealed class BatchStatistics
{
    private readonly ConcurrentDictionary<int, Totals> _bySize = new();

    public void Record(int rows, double inputSeconds, double inferSeconds, double outputSeconds)
    {
        var totals = _bySize.GetOrAdd(rows, _ => new Totals());
        Interlocked.Add(ref totals.InputNs, Nanoseconds(inputSeconds));
        Interlocked.Add(ref totals.InferNs, Nanoseconds(inferSeconds));
        Interlocked.Add(ref totals.OutputNs, Nanoseconds(outputSeconds));
        Interlocked.Increment(ref totals.Count);
    }

    /// <summary>Every batch size seen, smallest first.</summary>
    public IReadOnlyList<BatchTimes> Snapshot() =>
        [.. _bySize.OrderBy(p => p.Key).Select(p => new BatchTimes(p.Key, Interlocked.Read(ref p.Value.Count),
            Interlocked.Read(ref p.Value.InputNs), Interlocked.Read(ref p.Value.InferNs), Interlocked.Read(ref p.Value.OutputNs)))];

    private static long Nanoseconds(double seconds) => (long)(seconds * 1e9);

    private sealed class Totals
    {
        public long Count;
        public long InputNs;
        public long InferNs;
        public long OutputNs;
    }
}
