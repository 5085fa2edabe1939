using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>-x (integers wrap).</summary>
internal readonly struct NegOperator : INumericUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => unchecked(-x);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Negate(x, destination);
        return true;
    }
}
