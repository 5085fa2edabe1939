namespace Tessera.Serving.Scheduling;

/// <summary>Batching, scheduling, priority and queue options of one model (see docs/serving.md for the config file keys).</summary>
internal sealed record SchedulerOptions
{
    /// <summary>Most rows (sum of the requests' leading dimensions) in one batch; 0 turns dynamic batching off.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>How long the oldest queued request may wait for a batch to fill.</summary>
    public long MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Batch sizes to dispatch at once when the queue holds them, without waiting for the delay.</summary>
    public int[] PreferredBatchSizes { get; init; } = [];

    public SchedulingPolicyKind Policy { get; init; } = SchedulingPolicyKind.Dynamic;

    /// <summary>Requests that may wait in the queue; one more is answered 503 with Retry-After.</summary>
    public int MaxQueueSize { get; init; } = 1024;

    /// <summary>Number of priority levels; a request's "priority" 1 is the highest, this value the lowest.</summary>
    public int PriorityLevels { get; init; } = 2;

    /// <summary>Level of requests that give no priority (1 … <see cref="PriorityLevels"/>).</summary>
    public int DefaultPriority { get; init; } = 2;

    /// <summary>Timeout of requests that give none; 0 means none.</summary>
    public long DefaultTimeoutMicroseconds { get; init; }

    /// <summary>Batches handed to one replica before it finishes the first; 1 keeps batches forming in the queue.</summary>
    public int MaxInflightPerReplica { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent option.</summary>
    public void Validate()
    {
        if (MaxBatchSize < 0) throw new ArgumentException("max_batch_size must be 0 or more");
        if (MaxQueueDelayMicroseconds < 0) throw new ArgumentException("max_queue_delay_us must be 0 or more");
        if (PreferredBatchSizes.Any(p => p < 1 || p > MaxBatchSize))
        {
            throw new ArgumentException($"preferred_batch_sizes must lie in [1, max_batch_size = {MaxBatchSize}]");
        }

        if (MaxQueueSize < 1) throw new ArgumentException("max_queue_size must be 1 or more");
        if (PriorityLevels < 1) throw new ArgumentException("priority_levels must be 1 or more");
        if (DefaultPriority < 1 || DefaultPriority > PriorityLevels)
        {
            throw new ArgumentException($"default_priority must lie in [1, priority_levels = {PriorityLevels}]");
        }

        if (DefaultTimeoutMicroseconds < 0) throw new ArgumentException("default_timeout_us must be 0 or more");
        if (MaxInflightPerReplica < 1) throw new ArgumentException("max_inflight_per_replica must be 1 or more");
    }
}
