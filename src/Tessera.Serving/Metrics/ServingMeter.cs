using System.Diagnostics.Metrics;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Metrics;

/// <summary>
/// A server's metrics as System.Diagnostics.Metrics instruments of the meter "Tessera.Serving", under the names and
/// labels of the Prometheus text (<see cref="ServingMetricFamilies"/>): a histogram instrument per
/// <see cref="HistogramSpec"/>, recorded by each model's <see cref="Histogram"/>s with the same bucket bounds (as
/// advice), and an observable counter or gauge per other family, read when a listener collects (the OTLP exporter
/// every OTEL_METRIC_EXPORT_INTERVAL). One meter per server, so servers in one process keep their own.
/// </summary>
internal sealed class ServingMeter : IDisposable
{
    public const string Name = "Tessera.Serving";

    private readonly Meter _meter = new(Name);
    private readonly Histogram<double>[] _histograms;

    public ServingMeter(ModelRepository models)
    {
        _histograms = [.. HistogramSpec.All.Select(spec => _meter.CreateHistogram(spec.Name, spec.Unit, spec.Help, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = spec.Bounds }))];
        foreach (var family in ServingMetricFamilies.Of(models))
        {
            if (family.Samples is not { } samples) continue;
            if (family.Type == "counter")
            {
                _meter.CreateObservableCounter(family.Name, () => Measure(samples), unit: null, family.Help);
            }
            else
            {
                _meter.CreateObservableGauge(family.Name, () => Measure(samples), unit: null, family.Help);
            }
        }
    }

    public Histogram<double> Instrument(HistogramSpec spec) => _histograms[spec.Index];

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<double>> Measure(Func<IEnumerable<MetricSample>> samples) =>
        samples().Select(s => new Measurement<double>(s.Value, s.Labels));
}
