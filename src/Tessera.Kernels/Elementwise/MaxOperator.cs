using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>max(x, y); NaN propagates, as numpy.maximum does.</summary>
internal readonly struct MaxOperator : INumericBinaryOperator
{
    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T> => T.Max(x, y);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Max(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Max(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Max(y, x, destination);
        return true;
    }
}
