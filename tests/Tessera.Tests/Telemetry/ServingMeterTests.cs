using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Serving.Repository;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Telemetry;

/// <summary>
/// The "Tessera.Serving" meter, read by a MeterListener as any System.Diagnostics.Metrics consumer (the OTLP
/// exporter, dotnet-counters) reads it, against the Prometheus text of the same server: the same names and labels,
/// the same values, every histogram observation in the same bucket.
/// </summary>
public sealed class ServingMeterTests
{
    [Fact]
    public async Task TheMeterShowsWhatTheMetricsEndpointShows()
    {
        // A model name of this test's own: other servers in this process have meters named "Tessera.Serving" too.
        string model = "meter_" + Guid.NewGuid().ToString("N")[..8];
        var recorded = new List<(string Name, double Value)>();
        var observed = new List<string>();
        var bounds = new Dictionary<string, IReadOnlyList<double>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name != "Tessera.Serving") return;
            if (instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { } b }) lock (bounds) bounds[instrument.Name] = b;
            l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var labels = tags.ToArray();
            if (!labels.Any(t => t.Key == "model" && (string?)t.Value == model)) return;
            if (instrument is Histogram<double>)
            {
                lock (recorded) recorded.Add((instrument.Name, value));
            }
            else
            {
                string line = $"{instrument.Name}{{{string.Join(",", labels.Select(t => $"{t.Key}=\"{t.Value}\""))}}} {value.ToString("R", CultureInfo.InvariantCulture)}";
                lock (observed) observed.Add(line);
            }
        });
        listener.Start();

        await using var server = await TestServer.StartAsync(model, TestModels.Affine(), new ModelConfig { Scheduler = new() { MaxBatchSize = 8 } });
        string text = await MeterTraffic.SendAsync(server, model);
        listener.RecordObservableInstruments();

        // Every counter and gauge series of the model, as the meter gives it, is a line of the text, and the other way round.
        string[] textLines = [.. text.Split('\n').Where(l => l.Contains($"model=\"{model}\"", StringComparison.Ordinal) && !Regex.IsMatch(l, "_(bucket|sum|count)\\{"))];
        Assert.Contains($"tessera_requests_total{{model=\"{model}\",version=\"1\",outcome=\"success\"}} 5", textLines);
        Assert.Contains($"tessera_requests_total{{model=\"{model}\",version=\"1\",outcome=\"bad_request\"}} 1", textLines);
        Assert.Equal(textLines.Order(StringComparer.Ordinal), observed.Order(StringComparer.Ordinal));

        // Each histogram: the observations the meter recorded, put in the advised buckets, are the text's buckets.
        foreach (string name in new[] { "tessera_request_seconds", "tessera_queue_seconds", "tessera_compute_seconds", "tessera_batch_size" })
        {
            double[] values = [.. recorded.Where(r => r.Name == name).Select(r => r.Value)];
            Assert.Equal(name == "tessera_request_seconds" ? MeterTraffic.Successes + 1 : MeterTraffic.Successes, values.Length);
            var le = bounds[name];
            for (int i = 0; i <= le.Count; i++)
            {
                string bound = i < le.Count ? le[i].ToString("0.##########", CultureInfo.InvariantCulture) : "+Inf";
                long below = values.LongCount(v => i == le.Count || v <= le[i]);
                Assert.Contains($"{name}_bucket{{model=\"{model}\",version=\"1\",le=\"{bound}\"}} {below}\n", text);
            }

            Assert.Contains($"{name}_count{{model=\"{model}\",version=\"1\"}} {values.Length}\n", text);
        }
    }
}
