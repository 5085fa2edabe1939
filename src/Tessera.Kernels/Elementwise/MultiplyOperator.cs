using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x * y.</summary>
internal readonly struct MultiplyOperator : INumericBinaryOperator
{
    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T> => unchecked(x * y);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Multiply(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Multiply(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Multiply(y, x, destination);
        return true;
    }
}
