namespace Tessera.Partitioning.Planning;

/// <summary>Which combinations of data (D), pipeline (P) and tensor (T) parallelism the planner considers.</summary>
public enum PlanStrategy
{
    /// <summary>Every D x P x T that fits the node count, the single node included.</summary>
    Auto = 0,

    /// <summary>P stages, D = T = 1.</summary>
    Pipeline = 1,

    /// <summary>Degree T, D = P = 1.</summary>
    Tensor = 2,

    /// <summary>D replicas, P = T = 1.</summary>
    Data = 3,

    /// <summary>Combinations with at least two of D, P, T above 1.</summary>
    Hybrid = 4,
}
