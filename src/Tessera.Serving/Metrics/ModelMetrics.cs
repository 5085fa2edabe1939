namespace Tessera.Serving.Metrics;

/// <summary>Counters and histograms of one model version.</summary>
internal sealed class ModelMetrics
{
    public static readonly string[] OutcomeNames = ["success", "bad_request", "rejected", "timeout", "cancelled", "error"];

    private readonly long[] _outcomes = new long[OutcomeNames.Length];

    public ModelMetrics(string model, string version)
    {
        Labels = $"model=\"{PrometheusText.Escape(model)}\",version=\"{PrometheusText.Escape(version)}\"";
    }

    /// <summary>The label pairs that name this model version in every series.</summary>
    public string Labels { get; }

    /// <summary>Seconds from arrival in the queue to dispatch in a batch.</summary>
    public Histogram QueueSeconds { get; } = new(Histogram.TimeBounds);

    /// <summary>Seconds a replica spent on one batch.</summary>
    public Histogram ComputeSeconds { get; } = new(Histogram.TimeBounds);

    /// <summary>Seconds from the request's arrival to its response being ready, parsing included.</summary>
    public Histogram RequestSeconds { get; } = new(Histogram.TimeBounds);

    /// <summary>Rows per executed batch.</summary>
    public Histogram BatchSize { get; } = new(Histogram.BatchBounds);

    public void Count(RequestOutcome outcome) => Interlocked.Increment(ref _outcomes[(int)outcome]);

    public long Outcome(RequestOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);
}
