using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>-1, 0 or 1 by the sign of x; NaN stays NaN (T.Sign would throw on it).</summary>
internal readonly struct SignOperator : INumericUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x > T.Zero ? T.One : x < T.Zero ? -T.One : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, INumber<T> => false;
}
