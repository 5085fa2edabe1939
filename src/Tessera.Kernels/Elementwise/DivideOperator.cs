using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x / y; integers truncate toward zero, and integer division by zero yields 0 (as numpy does) instead of faulting.</summary>
internal readonly struct DivideOperator : INumericBinaryOperator
{
    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T>
    {
        if (ElementTypes.IsFloat<T>())
        {
            return x / y;
        }

        if (y == T.Zero)
        {
            return T.Zero;
        }

        // MinValue / -1 overflows in hardware; the wrapped result is -x.
        return T.IsNegative(y) && y == -T.One ? unchecked(-x) : x / y;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!ElementTypes.IsFloat<T>())
        {
            return false;
        }

        TensorPrimitives.Divide(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!ElementTypes.IsFloat<T>())
        {
            return false;
        }

        TensorPrimitives.Divide(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!ElementTypes.IsFloat<T>())
        {
            return false;
        }

        TensorPrimitives.Divide(x, y, destination);
        return true;
    }
}
