using System.Text;
using Tessera.Cluster.Coordinator;
using Tessera.Serving.Backends;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Metrics;

/// <summary>
/// The per-worker series of a server on a cluster: whether each worker is up, the work this server has on it, and
/// which models ran there (so placements can be checked from outside).
/// </summary>
internal static class WorkerMetrics
{
    public static void Write(StringBuilder text, ServedModel[] models, ServingCluster cluster)
    {
        var workers = cluster.Coordinator.Workers;
        var backends = models.Where(m => m.Backend is ClusterBackend).Select(m => (Model: m, Backend: (ClusterBackend)m.Backend)).ToArray();

        PrometheusText.Header(text, "tessera_worker_up", "gauge", "1 while the worker answers heartbeats, 0 while it is down (1 again once it answers and has its models back).");
        foreach (var w in workers)
        {
            PrometheusText.Sample(text, "tessera_worker_up", Labels(w), w.IsUp ? 1 : 0);
        }

        PrometheusText.Header(text, "tessera_worker_inflight_requests", "gauge", "Requests (batches, or micro-batches of a pipeline) this server sent along routes through the worker and not answered yet.");
        foreach (var w in workers)
        {
            PrometheusText.Sample(text, "tessera_worker_inflight_requests", Labels(w), w.Outstanding);
        }

        PrometheusText.Header(text, "tessera_worker_queued_batches", "gauge", "Batches handed to replicas through the worker beyond the one each replica is running.");
        foreach (var w in workers)
        {
            long queued = backends.Sum(b => Enumerable.Range(0, b.Backend.ReplicaCount).Where(r => b.Backend.Routes[r].Workers.Contains(w)).Sum(b.Backend.Waiting));
            PrometheusText.Sample(text, "tessera_worker_queued_batches", Labels(w), queued);
        }

        PrometheusText.Header(text, "tessera_route_stage", "gauge", "1 for each worker that runs a stage of a placement (replica; stage 0 first; a tensor-parallel stage has a worker per rank): where each model is placed now.");
        foreach (var (m, b) in backends)
        {
            for (int r = 0; r < b.Routes.Count; r++)
            {
                var stages = b.Routes[r].Stages;
                for (int s = 0; s < stages.Count; s++)
                {
                    int rank = 0;
                    foreach (var w in stages[s].Workers)
                    {
                        PrometheusText.Sample(text, "tessera_route_stage", $"{m.Metrics.Labels},replica=\"{r}\",stage=\"{s}\",rank=\"{rank++}\",{Labels(w)}", 1);
                    }
                }
            }
        }

        PrometheusText.Header(text, "tessera_worker_requests_total", "counter", "Requests of a model answered along routes through the worker.");
        foreach (var (m, b) in backends)
        {
            foreach (var w in b.Routes.SelectMany(r => r.Workers).Distinct())
            {
                long answered = Enumerable.Range(0, b.ReplicaCount).Where(r => b.Routes[r].Workers.Contains(w)).Sum(b.Answered);
                PrometheusText.Sample(text, "tessera_worker_requests_total", $"{m.Metrics.Labels},{Labels(w)}", answered);
            }
        }
    }

    private static string Labels(WorkerClient w) => $"worker=\"{PrometheusText.Escape(w.Name)}\",address=\"{PrometheusText.Escape(w.Address)}\"";
}
