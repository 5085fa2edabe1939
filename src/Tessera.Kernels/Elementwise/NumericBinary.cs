using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>Adapts an <see cref="INumericBinaryOperator"/> to the drivers for one element type.</summary>
internal readonly struct NumericBinary<T, TOp>(TOp op) : IBinarySpanOperator<T, T, T>
    where T : unmanaged, INumber<T>
    where TOp : struct, INumericBinaryOperator
{
    private readonly TOp _op = op;

    public void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
    {
        if (!_op.TryInvoke(x, y, destination))
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = _op.Invoke(x[i], y[i]);
        }
    }

    public void Invoke(ReadOnlySpan<T> x, T y, Span<T> destination)
    {
        if (!_op.TryInvoke(x, y, destination))
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = _op.Invoke(x[i], y);
        }
    }

    public void Invoke(T x, ReadOnlySpan<T> y, Span<T> destination)
    {
        if (!_op.TryInvoke(x, y, destination))
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = _op.Invoke(x, y[i]);
        }
    }
}
