namespace Tessera.Kernels.Reduction;

internal enum ReduceKind
{
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    SumSquare,
    L2,
}
