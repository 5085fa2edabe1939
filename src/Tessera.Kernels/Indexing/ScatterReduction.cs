namespace Tessera.Kernels.Indexing;

/// <summary>How ScatterElements/ScatterND combine an update with the existing value.</summary>
internal enum ScatterReduction
{
    None,
    Add,
    Mul,
    Max,
    Min,
}
