using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Cluster.Telemetry;
using Tessera.Serving.Backends;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Telemetry;

/// <summary>
/// The "Tessera.Serving" meter exported over OTLP/gRPC to a receiver decoding with the published metrics protos:
/// after a few requests the receiver holds the request counter and the latency histograms of the model, cumulative,
/// with the values, buckets and bounds the server's own /metrics text shows.
/// </summary>
[Collection(InProcessTelemetryCollection.Name)]
public sealed partial class MetricExportTests
{
    [Fact]
    public async Task TheReceiverGetsTheCountersAndHistogramsThatMetricsShows()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        // A model name of this test's own: other servers of this process export meters named "Tessera.Serving" too.
        string model = "otlp_" + Guid.NewGuid().ToString("N")[..8];
        var telemetry = new TelemetryOptions { Endpoint = new Uri(receiver.Endpoint), EndpointGiven = true, ServiceName = "tessera-serve", MetricExportInterval = TimeSpan.FromMilliseconds(200) };
        var config = new ModelConfig();
        await using var server = await TestServer.StartAsync(
            r => r.Add(model, 1, new LocalBackend(TestModels.Affine(), model, config.Replicas, 1), config),
            new ServerOptions { Url = "http://127.0.0.1:0", Telemetry = telemetry });
        string text = await MeterTraffic.SendAsync(server, model);
        Assert.Equal(MeterTraffic.Successes, Sample(text, $"tessera_requests_total{{model=\"{model}\",version=\"1\",outcome=\"success\"}}"));
        Assert.Equal(1, Sample(text, $"tessera_requests_total{{model=\"{model}\",version=\"1\",outcome=\"bad_request\"}}"));

        // Nothing runs on the model from here on: the next exports carry the totals the text shows.
        var points = await receiver.WaitForMetricsAsync(
            all => Point(all, "tessera_requests_total", model, "bad_request") is { Value: 1 } && Point(all, "tessera_request_seconds", model) is { Count: 6 },
            TimeSpan.FromSeconds(30));

        foreach (string outcome in Tessera.Serving.Metrics.ModelMetrics.OutcomeNames)
        {
            var counter = Point(points, "tessera_requests_total", model, outcome);
            Assert.NotNull(counter);
            Assert.Equal(("sum", true), (counter.Kind, counter.Cumulative));
            Assert.Equal(Sample(text, $"tessera_requests_total{{model=\"{model}\",version=\"1\",outcome=\"{outcome}\"}}"), counter.Value);
        }

        foreach (string name in new[] { "tessera_request_seconds", "tessera_queue_seconds", "tessera_compute_seconds", "tessera_batch_size" })
        {
            var histogram = Point(points, name, model);
            Assert.NotNull(histogram);
            Assert.Equal(("histogram", true, "tessera-serve", "Tessera.Serving"), (histogram.Kind, histogram.Cumulative, histogram.Service, histogram.Scope));
            string labels = $"model=\"{model}\",version=\"1\"";
            Assert.Equal(Sample(text, $"{name}_count{{{labels}}}"), histogram.Count);
            Assert.Equal(Sample(text, $"{name}_sum{{{labels}}}"), histogram.Sum, 1e-9);

            // The text's buckets are cumulative and named by their upper bound; OTLP sends each bucket's own count.
            var buckets = Buckets(text, name, labels);
            Assert.Equal(buckets.Select(b => b.Bound).Where(double.IsFinite), histogram.Bounds);
            long running = 0;
            Assert.Equal(buckets.Select(b => b.Cumulative), histogram.BucketCounts.Select(c => running += (long)c));
        }
    }

    private static ReceivedMetricPoint? Point(IReadOnlyList<ReceivedMetricPoint> points, string name, string model, string? outcome = null) =>
        points.SingleOrDefault(p => p.Name == name && p.Has("model", model) && p.Has("version", "1") && (outcome is null || p.Has("outcome", outcome)));

    private static double Sample(string text, string series)
    {
        string line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"/metrics has no {series}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static List<(double Bound, long Cumulative)> Buckets(string text, string name, string labels) =>
        [.. BucketLine().Matches(text)
            .Where(m => m.Groups["name"].Value == name && m.Groups["labels"].Value == labels)
            .Select(m => (m.Groups["le"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups["le"].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture)))];

    [GeneratedRegex("^(?<name>[a-z_]+)_bucket\\{(?<labels>.*),le=\"(?<le>[^\"]+)\"\\} (?<count>\\d+)$", RegexOptions.Multiline)]
    private static partial Regex BucketLine();
}
