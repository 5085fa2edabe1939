using Tessera.Partitioning.Data;

namespace Tessera.Serving.Scheduling;

internal sealed partial class ModelScheduler
{
    /// <summary>
    /// How many requests from the front of the queues to dispatch now (and their rows), or 0 and how long to wait
    /// for the batch to fill. Caller holds the lock.
    /// </summary>
    private int PlanBatchUnsynchronized(out int rows, out long waitTicks)
    {
        PendingRequest? head = null;
        int count = 0, sum = 0, preferredCount = 0, preferredRows = 0;
        bool closed = false; // full, or the next request cannot join: waiting would not grow the batch
        waitTicks = 0;
        foreach (var level in _levels)
        {
            foreach (var r in level)
            {
                if (r.State != PendingState.Queued)
                {
                    continue;
                }

                if (head is null)
                {
                    head = r;
                    if (!Batching)
                    {
                        rows = r.Rows;
                        return 1;
                    }
                }
                else if (sum + r.Rows > Options.MaxBatchSize || !BatchSplit.Joinable(head.Inputs, r.Inputs))
                {
                    closed = true;
                    break;
                }

                count++;
                sum += r.Rows;
                if (Array.IndexOf(Options.PreferredBatchSizes, sum) >= 0)
                {
                    preferredCount = count;
                    preferredRows = sum;
                }

                if (sum >= Options.MaxBatchSize)
                {
                    closed = true;
                    break;
                }
            }

            if (closed)
            {
                break;
            }
        }

        rows = sum;
        if (head is null)
        {
            waitTicks = long.MaxValue / 2;
            return 0;
        }

        if (closed)
        {
            return count;
        }

        if (preferredCount > 0)
        {
            rows = preferredRows;
            return preferredCount;
        }

        long waited = System.Diagnostics.Stopwatch.GetTimestamp() - head.EnqueuedTimestamp;
        if (waited >= _delayTicks)
        {
            return count;
        }

        waitTicks = _delayTicks - waited;
        return 0;
    }

    /// <summary>Moves the first <paramref name="count"/> queued requests into <paramref name="batch"/>, dropping abandoned ones on the way.</summary>
    private void TakeUnsynchronized(int count, List<PendingRequest> batch)
    {
        foreach (var level in _levels)
        {
            while (batch.Count < count && level.TryDequeue(out var r))
            {
                if (r.State != PendingState.Queued)
                {
                    continue;
                }

                r.State = PendingState.Taken;
                _queued[r.Level]--;
                _queuedTotal--;
                batch.Add(r);
            }

            // Drop abandoned requests at the front so they do not pile up behind a busy replica.
            while (level.TryPeek(out var next) && next.State == PendingState.Abandoned)
            {
                level.Dequeue();
            }

            if (batch.Count == count)
            {
                return;
            }
        }
    }
}
