using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tessera.Partitioning.Data;
using Tessera.Serving.Http;
using Tessera.Tensors;

namespace Tessera.Serving.Scheduling;

internal sealed partial class ModelScheduler
{
    private async Task RunBatchAsync(BatchWork work)
    {
        var requests = work.Requests;
        long start = Stopwatch.GetTimestamp();
        foreach (var r in requests)
        {
            _metrics.QueueSeconds.Observe(Stopwatch.GetElapsedTime(r.EnqueuedTimestamp, start).TotalSeconds);
        }

        using var span = StartBatchSpan(work, start);

        _metrics.BatchSize.Observe(work.Rows);
        double seconds = 0;
        bool measured = false;
        try
        {
            IReadOnlyDictionary<string, Tensor> inputs = requests.Length == 1
                ? requests[0].Inputs
                : requests[0].Inputs.Keys.ToDictionary(n => n, n => BatchSplit.Concat([.. requests.Select(r => r.Inputs[n])], 0), StringComparer.Ordinal);
            long merged = Stopwatch.GetTimestamp();
            var outputs = await _backend.RunAsync(work.Replica.Index, inputs, CancellationToken.None).ConfigureAwait(false);
            long ran = Stopwatch.GetTimestamp();
            seconds = Stopwatch.GetElapsedTime(start, ran).TotalSeconds;
            measured = true;
            if (requests.Length == 1)
            {
                _metrics.RecordBatch(work.Rows, 0, Stopwatch.GetElapsedTime(merged, ran).TotalSeconds, 0);
                requests[0].Completion.TrySetResult(outputs);
            }
            else if (outputs.Values.All(o => o.Rank > 0 && o.Shape[0] == work.Rows))
            {
                // Each request's rows of the batch's outputs (views: the batch's outputs are this call's own).
                int[] counts = [.. requests.Select(r => r.Rows)];
                var parts = outputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Split(kv.Value, 0, counts), StringComparer.Ordinal);
                _metrics.RecordBatch(work.Rows, Stopwatch.GetElapsedTime(start, merged).TotalSeconds, Stopwatch.GetElapsedTime(merged, ran).TotalSeconds, Stopwatch.GetElapsedTime(ran).TotalSeconds);
                for (int i = 0; i < requests.Length; i++)
                {
                    requests[i].Completion.TrySetResult(parts.ToDictionary(kv => kv.Key, kv => kv.Value[i], StringComparer.Ordinal));
                }
            }
            else
            {
                _logger.BatchSplitFailed(_name, requests.Length);
                await RunAloneAsync(work).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (requests.Length > 1)
        {
            span?.AddEvent(new ActivityEvent("run alone", tags: new ActivityTagsCollection { ["tessera.reason"] = e.Message }));
            // One bad request must not fail the others it was batched with: run each alone to find it.
            _logger.BatchFailed(_name, requests.Length, e.Message);
            await RunAloneAsync(work).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            requests[0].Completion.TrySetException(e);
        }
        finally
        {
            Finish(work.Replica, work.Rows, seconds, measured);
        }
    }

    private async Task RunAloneAsync(BatchWork work)
    {
        foreach (var r in work.Requests)
        {
            try
            {
                long start = Stopwatch.GetTimestamp();
                var outputs = await _backend.RunAsync(work.Replica.Index, r.Inputs, CancellationToken.None).ConfigureAwait(false);
                _metrics.RecordBatch(r.Rows, 0, Stopwatch.GetElapsedTime(start).TotalSeconds, 0);
                r.Completion.TrySetResult(outputs);
            }
            catch (Exception e)
            {
                r.Completion.TrySetException(e);
            }
        }
    }
}
