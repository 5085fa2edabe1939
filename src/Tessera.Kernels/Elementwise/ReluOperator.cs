using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>max(x, 0); NaN stays NaN.</summary>
internal readonly struct ReluOperator : INumericUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x < T.Zero ? T.Zero : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, INumber<T>
    {
        TensorPrimitives.Max(x, T.Zero, destination);
        return true;
    }
}
