namespace Tessera.Kernels.Elementwise;

/// <summary>A unary element-wise computation over one contiguous run; the drivers hand it whole runs so it can vectorize.</summary>
internal interface IUnarySpanOperator<TIn, TOut>
    where TIn : unmanaged
    where TOut : unmanaged
{
    void Invoke(ReadOnlySpan<TIn> x, Span<TOut> destination);
}
