namespace Tessera.Partitioning.TensorParallel;

/// <summary>The shape of a group of split layers that shares its collectives.</summary>
public enum TensorParallelBlockKind
{
    /// <summary>Megatron MLP: column layer(s), per-element operators, row layer(s); one AllReduce per row layer.</summary>
    Mlp = 1,

    /// <summary>Megatron attention: Q/K/V split by heads, per-head attention, output projection by rows; one AllReduce.</summary>
    Attention = 2,

    /// <summary>A lone column split whose output is gathered at once (one AllGather).</summary>
    Column = 3,

    /// <summary>A lone row split that slices its input and sums the partial outputs (one AllReduce).</summary>
    Row = 4,
}
