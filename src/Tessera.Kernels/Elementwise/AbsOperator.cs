using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>|x|; the most negative integer stays itself (two's-complement wrap, as numpy).</summary>
internal readonly struct AbsOperator : INumericUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x < T.Zero ? unchecked(-x) : ElementTypes.IsFloat<T>() ? T.Abs(x) : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!ElementTypes.IsFloat<T>())
        {
            // TensorPrimitives.Abs throws on the most negative integer.
            return false;
        }

        TensorPrimitives.Abs(x, destination);
        return true;
    }
}
