namespace Tessera.Serving.Metrics;

/// <summary>Counters and histograms of one model version.</summary>
internal sealed class ModelMetrics
{
    public static readonly string[] OutcomeNames = ["success", "bad_request", "rejected", "timeout", "cancelled", "error"];

    private readonly long[] _outcomes = new long[OutcomeNames.Length];
    private readonly long[] _outcomeNanoseconds = new long[OutcomeNames.Length];
    private long _lastRequestUnixMs;

    /// <param name="meter">The server's meter, whose histogram instruments get every observation too; null for none.</param>
    public ModelMetrics(string model, string version, ServingMeter? meter = null)
    {
        Tags = [new("model", model), new("version", version)];
        Labels = PrometheusText.Labels(Tags);
        Histograms = [.. HistogramSpec.All.Select(spec => new Histogram(spec.Bounds, meter?.Instrument(spec), Tags))];
    }

    /// <summary>The label pairs that name this model version in every series.</summary>
    public KeyValuePair<string, object?>[] Tags { get; }

    /// <summary><see cref="Tags"/> as the Prometheus text writes them.</summary>
    public string Labels { get; }

    /// <summary>The model version's histograms, in the order of <see cref="HistogramSpec.All"/>.</summary>
    public IReadOnlyList<Histogram> Histograms { get; }

    /// <summary>Seconds from arrival in the queue to dispatch in a batch.</summary>
    public Histogram QueueSeconds => Histograms[HistogramSpec.Queue.Index];

    /// <summary>Seconds a replica spent on one batch.</summary>
    public Histogram ComputeSeconds => Histograms[HistogramSpec.Compute.Index];

    /// <summary>Seconds from the request's arrival to its response being ready, parsing included.</summary>
    public Histogram RequestSeconds => Histograms[HistogramSpec.Request.Index];

    /// <summary>Rows per executed batch.</summary>
    public Histogram BatchSize => Histograms[HistogramSpec.BatchSize.Index];

    /// <summary>Batches run per batch size, with their times.</summary>
    public BatchStatistics Batches { get; } = new();

    /// <summary>Milliseconds since the Unix epoch when the last request finished; 0 before the first.</summary>
    public long LastRequestUnixMs => Interlocked.Read(ref _lastRequestUnixMs);

    /// <summary>Counts a finished request: its outcome, and its time in <see cref="RequestSeconds"/> and in the outcome's total.</summary>
    public void Record(RequestOutcome outcome, double seconds)
    {
        Interlocked.Add(ref _outcomeNanoseconds[(int)outcome], (long)(seconds * 1e9));
        Interlocked.Increment(ref _outcomes[(int)outcome]);
        RequestSeconds.Observe(seconds);
        Interlocked.Exchange(ref _lastRequestUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    /// <summary>Counts a batch the model ran: its compute time in <see cref="ComputeSeconds"/>, and its times by size in <see cref="Batches"/>.</summary>
    public void RecordBatch(int rows, double inputSeconds, double inferSeconds, double outputSeconds)
    {
        ComputeSeconds.Observe(inferSeconds);
        Batches.Record(rows, inputSeconds, inferSeconds, outputSeconds);
    }

    public long Outcome(RequestOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);

    /// <summary>Total nanoseconds of the requests that ended with <paramref name="outcome"/>.</summary>
    public long OutcomeNanoseconds(RequestOutcome outcome) => Interlocked.Read(ref _outcomeNanoseconds[(int)outcome]);
}
