using Tessera.Cluster.Coordinator;
using Tessera.Serving.Backends;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Metrics;

/// <summary>
/// Every metric of a server, in the order of the Prometheus text: per model version its requests, readiness,
/// histograms, queue and replicas; on a cluster, per worker whether it is up, the work this server has on it, and
/// which models ran there (so placements can be checked from outside). Each series is read when asked for.
/// </summary>
internal static class ServingMetricFamilies
{
    public static IReadOnlyList<MetricFamily> Of(ModelRepository models)
    {
        List<MetricFamily> families =
        [
            MetricFamily.Counter("tessera_requests_total", "Inference requests by model, version and outcome.", () =>
                models.All.SelectMany(m => ModelMetrics.OutcomeNames.Select((outcome, i) => Sample(m.Metrics.Tags, m.Metrics.Outcome((RequestOutcome)i), ("outcome", outcome))))),
            MetricFamily.Gauge("tessera_model_ready", "1 while the model version can be served, 0 while it cannot (no placement up, or none could be made): /v2/health/ready answers 503 then.", () =>
                models.All.Select(m => Sample(m.Metrics.Tags, m.Unready is null ? 1 : 0))),
            .. HistogramSpec.All.Select(MetricFamily.Of),
            MetricFamily.Gauge("tessera_queued_requests", "Requests waiting in a model's queue, by priority level (1 is the highest).", () =>
                models.All.SelectMany(m => m.Scheduler.Snapshot().QueuedPerLevel.Select((queued, level) => Sample(m.Metrics.Tags, queued, ("priority", Text(level + 1)))))),
            Replicas(models, "tessera_replica_inflight_batches", "gauge", "Batches handed to a replica and not finished.", r => r.InflightBatches),
            Replicas(models, "tessera_replica_inflight_rows", "gauge", "Rows in those batches: the replica's outstanding work.", r => r.InflightRows),
            Replicas(models, "tessera_replica_queued_batches", "gauge", "Batches handed to a replica that it has not started.", r => r.Waiting),
            Replicas(models, "tessera_replica_rows_per_second", "gauge", "Measured speed of a replica (moving average), used by dynamic scheduling.", r => r.RowsPerSecond),
            Replicas(models, "tessera_replica_batches_total", "counter", "Batches a replica has run.", r => r.Batches),
            Replicas(models, "tessera_replica_rows_total", "counter", "Rows a replica has run.", r => r.Rows),
        ];
        if (models.Cluster is { } cluster)
        {
            families.AddRange(Workers(models, cluster.Coordinator));
        }

        return families;
    }

    private static IEnumerable<MetricFamily> Workers(ModelRepository models, ClusterCoordinator coordinator)
    {
        yield return MetricFamily.Gauge("tessera_worker_up", "1 while the worker answers heartbeats, 0 while it is down (1 again once it answers and has its models back).", () =>
            coordinator.Workers.Select(w => Sample(Labels(w), w.IsUp ? 1 : 0)));
        yield return MetricFamily.Gauge("tessera_worker_inflight_requests", "Requests (batches, or micro-batches of a pipeline) this server sent along routes through the worker and not answered yet.", () =>
            coordinator.Workers.Select(w => Sample(Labels(w), w.Outstanding)));
        yield return MetricFamily.Gauge("tessera_worker_queued_batches", "Batches handed to replicas through the worker beyond the one each replica is running.", () =>
        {
            var backends = Backends(models);
            return coordinator.Workers.Select(w => Sample(Labels(w),
                backends.Sum(b => Enumerable.Range(0, b.Backend.ReplicaCount).Where(r => b.Backend.Routes[r].Workers.Contains(w)).Sum(b.Backend.Waiting))));
        });
        yield return MetricFamily.Gauge("tessera_route_stage", "1 for each worker that runs a stage of a placement (replica; stage 0 first; a tensor-parallel stage has a worker per rank): where each model is placed now.", () =>
            Backends(models).SelectMany(b => b.Backend.Routes.SelectMany((route, r) => route.Stages.SelectMany((stage, s) => stage.Workers.Select((w, rank) =>
                Sample([.. b.Model.Metrics.Tags, Label("replica", Text(r)), Label("stage", Text(s)), Label("rank", Text(rank)), .. Labels(w)], 1))))));
        yield return MetricFamily.Counter("tessera_worker_requests_total", "Requests of a model answered along routes through the worker.", () =>
            Backends(models).SelectMany(b => b.Backend.Routes.SelectMany(r => r.Workers).Distinct().Select(w => Sample([.. b.Model.Metrics.Tags, .. Labels(w)],
                Enumerable.Range(0, b.Backend.ReplicaCount).Where(r => b.Backend.Routes[r].Workers.Contains(w)).Sum(b.Backend.Answered)))));
    }

    private static MetricFamily Replicas(ModelRepository models, string name, string type, string help, Func<ReplicaSnapshot, double> pick) =>
        new(name, type, help)
        {
            Samples = () => models.All.SelectMany(m => m.Scheduler.Snapshot().Replicas.Select(r => Sample(m.Metrics.Tags, pick(r), ("replica", Text(r.Index))))),
        };

    private static (ServedModel Model, ClusterBackend Backend)[] Backends(ModelRepository models) =>
        [.. models.All.Where(m => m.Backend is ClusterBackend).Select(m => (m, (ClusterBackend)m.Backend))];

    private static MetricSample Sample(KeyValuePair<string, object?>[] labels, double value, params (string Key, string Value)[] more) =>
        new([.. labels, .. more.Select(p => Label(p.Key, p.Value))], value);

    private static KeyValuePair<string, object?>[] Labels(WorkerClient w) => [Label("worker", w.Name), Label("address", w.Address)];

    private static KeyValuePair<string, object?> Label(string key, string value) => new(key, value);

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
