namespace Tessera.Kernels.Elementwise;

/// <summary>
/// A binary element-wise computation over one contiguous run. Broadcasting reduces every run to one of three
/// forms: both operands contiguous, or one of them a single repeated value.
/// </summary>
internal interface IBinarySpanOperator<TX, TY, TOut>
    where TX : unmanaged
    where TY : unmanaged
    where TOut : unmanaged
{
    void Invoke(ReadOnlySpan<TX> x, ReadOnlySpan<TY> y, Span<TOut> destination);

    void Invoke(ReadOnlySpan<TX> x, TY y, Span<TOut> destination);

    void Invoke(TX x, ReadOnlySpan<TY> y, Span<TOut> destination);
}
