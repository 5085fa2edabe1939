namespace Tessera.Partitioning.TensorParallel;

/// <summary>How one layer's weight W [K, N] is divided among the ranks.</summary>
public enum TensorParallelSplitKind
{
    /// <summary>Each rank holds N/T columns (and the matching bias entries) and computes that slice of the output.</summary>
    Column = 1,

    /// <summary>Each rank holds K/T rows and reads the matching slice of the input; partial outputs are summed (AllReduce).</summary>
    Row = 2,

    /// <summary>A column split that keeps whole attention heads on each rank (heads/T per rank).</summary>
    Heads = 3,
}
