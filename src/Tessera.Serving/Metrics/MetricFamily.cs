namespace Tessera.Serving.Metrics;

/// <summary>
/// A metric of the server, written once for both exports: the Prometheus text at /metrics and the "Tessera.Serving"
/// meter (OTLP). A counter or gauge reads its <see cref="Samples"/> when scraped or collected; a histogram is each
/// model version's <see cref="ModelMetrics.Histograms"/> entry of <see cref="Histogram"/>.
/// </summary>
internal sealed record MetricFamily(string Name, string Type, string Help)
{
    public Func<IEnumerable<MetricSample>>? Samples { get; init; }

    public HistogramSpec? Histogram { get; init; }

    public static MetricFamily Counter(string name, string help, Func<IEnumerable<MetricSample>> samples) => new(name, "counter", help) { Samples = samples };

    public static MetricFamily Gauge(string name, string help, Func<IEnumerable<MetricSample>> samples) => new(name, "gauge", help) { Samples = samples };

    public static MetricFamily Of(HistogramSpec spec) => new(spec.Name, "histogram", spec.Help) { Histogram = spec };
}
