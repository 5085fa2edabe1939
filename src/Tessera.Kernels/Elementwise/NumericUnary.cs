using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>Adapts an <see cref="INumericUnaryOperator"/> to the unary driver for one element type.</summary>
internal readonly struct NumericUnary<T, TOp>(TOp op) : IUnarySpanOperator<T, T>
    where T : unmanaged, INumber<T>
    where TOp : struct, INumericUnaryOperator
{
    private readonly TOp _op = op;

    public void Invoke(ReadOnlySpan<T> x, Span<T> destination)
    {
        if (!_op.TryInvoke(x, destination))
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = _op.Invoke(x[i]);
        }
    }
}
