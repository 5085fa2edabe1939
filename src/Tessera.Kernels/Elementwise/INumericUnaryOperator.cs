using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>A unary operator for every numeric element type: scalar definition plus an optional whole-run fast path.</summary>
internal interface INumericUnaryOperator
{
    T Invoke<T>(T x) where T : unmanaged, INumber<T>;

    bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, INumber<T>;
}
