namespace Tessera.Partitioning.Planning;

/// <summary>What the planner optimises.</summary>
public enum PlanObjective
{
    /// <summary>Time of one request at the planned shapes.</summary>
    Latency = 0,

    /// <summary>Samples per second with requests streaming (pipeline stages overlap).</summary>
    Throughput = 1,
}
