using System.Diagnostics;
using Tessera.Serving.Telemetry;

namespace Tessera.Serving.Scheduling;

internal sealed partial class ModelScheduler
{
    /// <summary>
    /// When traces are exported: each traced request's "queue" span (from its arrival in the queue to
    /// <paramref name="dispatched"/>), and the batch's span, made the current activity so that the backend's spans
    /// (pieces, routes, stages on workers) are its children. Null, allocating nothing, when no one listens.
    /// </summary>
    private Activity? StartBatchSpan(BatchWork work, long dispatched)
    {
        var source = ServingTelemetry.Source;
        if (!source.HasListeners())
        {
            return null;
        }

        var requests = work.Requests;
        var now = DateTimeOffset.UtcNow;
        foreach (var r in requests)
        {
            if (r.Trace == default) continue;
            var waited = Stopwatch.GetElapsedTime(r.EnqueuedTimestamp, dispatched);
            using var queue = source.StartActivity("queue", ActivityKind.Internal, r.Trace, startTime: now - waited);
            queue?.SetTag("tessera.model", _name);
            queue?.SetTag("tessera.priority", r.Level + 1);
        }

        // A batch has one parent; the other requests it serves are links, so each request's trace finds it.
        ActivityLink[]? links = requests.Length > 1 ? [.. requests.Skip(1).Where(r => r.Trace != default).Select(r => new ActivityLink(r.Trace))] : null;
        var batch = source.StartActivity("batch", ActivityKind.Internal, requests[0].Trace, links: links);
        if (batch is not null)
        {
            batch.SetTag("tessera.model", _name);
            batch.SetTag("tessera.rows", work.Rows);
            batch.SetTag("tessera.requests", requests.Length);
            batch.SetTag("tessera.replica", work.Replica.Index);
        }

        return batch;
    }
}
