using System.Text;
using Microsoft.AspNetCore.Http;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Metrics;

/// <summary>GET /metrics: every model version's counters, histograms and replica gauges in the Prometheus text format.</summary>
internal sealed class MetricsEndpoint
{
    private readonly ModelRepository _models;

    public MetricsEndpoint(ModelRepository models)
    {
        _models = models;
    }

    public async Task ScrapeAsync(HttpContext context)
    {
        byte[] body = Encoding.UTF8.GetBytes(Render());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusText.ContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public string Render()
    {
        var text = new StringBuilder(8192);
        var models = _models.All.ToArray();
        PrometheusText.Header(text, "tessera_requests_total", "counter", "Inference requests by model, version and outcome.");
        foreach (var m in models)
        {
            for (int i = 0; i < ModelMetrics.OutcomeNames.Length; i++)
            {
                PrometheusText.Sample(text, "tessera_requests_total", $"{m.Metrics.Labels},outcome=\"{ModelMetrics.OutcomeNames[i]}\"", m.Metrics.Outcome((RequestOutcome)i));
            }
        }

        PrometheusText.Header(text, "tessera_model_ready", "gauge", "1 while the model version can be served, 0 while it cannot (no placement up, or none could be made): /v2/health/ready answers 503 then.");
        foreach (var m in models)
        {
            PrometheusText.Sample(text, "tessera_model_ready", m.Metrics.Labels, m.Unready is null ? 1 : 0);
        }

        WriteHistograms(text, models, "tessera_request_seconds", "Time from a request's arrival to its response, parsing and queueing included.", m => m.RequestSeconds);
        WriteHistograms(text, models, "tessera_queue_seconds", "Time requests waited in the queue before their batch was dispatched.", m => m.QueueSeconds);
        WriteHistograms(text, models, "tessera_compute_seconds", "Time a replica spent running one batch.", m => m.ComputeSeconds);
        WriteHistograms(text, models, "tessera_batch_size", "Rows per executed batch.", m => m.BatchSize);

        var snapshots = models.Select(m => (Model: m, State: m.Scheduler.Snapshot())).ToArray();
        PrometheusText.Header(text, "tessera_queued_requests", "gauge", "Requests waiting in a model's queue, by priority level (1 is the highest).");
        foreach (var (m, s) in snapshots)
        {
            for (int level = 0; level < s.QueuedPerLevel.Length; level++)
            {
                PrometheusText.Sample(text, "tessera_queued_requests", $"{m.Metrics.Labels},priority=\"{level + 1}\"", s.QueuedPerLevel[level]);
            }
        }

        WriteReplicaGauge(text, snapshots, "tessera_replica_inflight_batches", "gauge", "Batches handed to a replica and not finished.", r => r.InflightBatches);
        WriteReplicaGauge(text, snapshots, "tessera_replica_inflight_rows", "gauge", "Rows in those batches: the replica's outstanding work.", r => r.InflightRows);
        WriteReplicaGauge(text, snapshots, "tessera_replica_queued_batches", "gauge", "Batches handed to a replica that it has not started.", r => r.Waiting);
        WriteReplicaGauge(text, snapshots, "tessera_replica_rows_per_second", "gauge", "Measured speed of a replica (moving average), used by dynamic scheduling.", r => r.RowsPerSecond);
        WriteReplicaGauge(text, snapshots, "tessera_replica_batches_total", "counter", "Batches a replica has run.", r => r.Batches);
        WriteReplicaGauge(text, snapshots, "tessera_replica_rows_total", "counter", "Rows a replica has run.", r => r.Rows);
        if (_models.Cluster is { } cluster)
        {
            WorkerMetrics.Write(text, models, cluster);
        }

        return text.ToString();
    }

    private static void WriteHistograms(StringBuilder text, ServedModel[] models, string name, string help, Func<ModelMetrics, Histogram> pick)
    {
        PrometheusText.Header(text, name, "histogram", help);
        foreach (var m in models)
        {
            pick(m.Metrics).WriteTo(text, name, m.Metrics.Labels);
        }
    }

    private static void WriteReplicaGauge(StringBuilder text, (ServedModel Model, Scheduling.SchedulerSnapshot State)[] snapshots, string name, string type, string help, Func<Scheduling.ReplicaSnapshot, double> pick)
    {
        PrometheusText.Header(text, name, type, help);
        foreach (var (m, s) in snapshots)
        {
            foreach (var r in s.Replicas)
            {
                PrometheusText.Sample(text, name, $"{m.Metrics.Labels},replica=\"{r.Index}\"", pick(r));
            }
        }
    }
}
