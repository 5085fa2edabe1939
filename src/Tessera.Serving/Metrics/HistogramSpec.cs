namespace Tessera.Serving.Metrics;

/// <summary>
/// One of a model version's histograms: its series name, unit, help and bucket bounds, shared by the Prometheus text
/// and the <see cref="ServingMeter"/>'s instrument of the same name. <see cref="Index"/> is its place in <see cref="All"/>.
/// </summary>
internal sealed record HistogramSpec(int Index, string Name, string? Unit, string Help, double[] Bounds)
{
    public static HistogramSpec Request { get; } = new(0, "tessera_request_seconds", "s", "Time from a request's arrival to its response, parsing and queueing included.", Histogram.TimeBounds);

    public static HistogramSpec Queue { get; } = new(1, "tessera_queue_seconds", "s", "Time requests waited in the queue before their batch was dispatched.", Histogram.TimeBounds);

    public static HistogramSpec Compute { get; } = new(2, "tessera_compute_seconds", "s", "Time a replica spent running one batch.", Histogram.TimeBounds);

    public static HistogramSpec BatchSize { get; } = new(3, "tessera_batch_size", null, "Rows per executed batch.", Histogram.BatchBounds);

    /// <summary>In the order of the Prometheus text.</summary>
    public static IReadOnlyList<HistogramSpec> All { get; } = [Request, Queue, Compute, BatchSize];
}
