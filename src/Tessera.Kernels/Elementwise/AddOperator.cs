using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x + y (integers wrap, as in ONNX Runtime and numpy).</summary>
internal readonly struct AddOperator : INumericBinaryOperator
{
    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T> => unchecked(x + y);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Add(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Add(x, y, destination);
        return true;
    }

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Add(y, x, destination);
        return true;
    }
}
