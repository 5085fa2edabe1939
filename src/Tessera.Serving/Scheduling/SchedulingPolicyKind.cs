namespace Tessera.Serving.Scheduling;

/// <summary>How a model's batches are spread over its replicas (config "scheduling").</summary>
internal enum SchedulingPolicyKind
{
    /// <summary>Static: replicas take batches in turn, whatever their speed ("round_robin").</summary>
    RoundRobin = 0,

    /// <summary>Least outstanding work, weighted by each replica's measured time per row ("dynamic").</summary>
    Dynamic = 1,
}
