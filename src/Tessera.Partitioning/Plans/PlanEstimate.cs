namespace Tessera.Partitioning.Plans;

/// <summary>What the planner expects of the whole plan at the planned input shapes.</summary>
public sealed class PlanEstimate
{
    public required double LatencySeconds { get; init; }

    /// <summary>Samples (rows of the batch axis) per second in steady state, stages overlapping.</summary>
    public required double ThroughputPerSecond { get; init; }

    public required long MaxNodeMemoryBytes { get; init; }

    /// <summary>Where the per-operator rates came from: "defaults" or the calibrated machine's name.</summary>
    public required string Calibration { get; init; }
}
