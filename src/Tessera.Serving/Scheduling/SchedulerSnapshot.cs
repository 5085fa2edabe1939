namespace Tessera.Serving.Scheduling;

/// <summary>Queued requests per priority level and the state of each replica, read at one instant.</summary>
internal sealed record SchedulerSnapshot(int[] QueuedPerLevel, ReplicaSnapshot[] Replicas);
