using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>log(1 + e^x), evaluated as max(x, 0) + log(1 + e^-|x|) so large inputs do not overflow.</summary>
internal readonly struct SoftplusOperator : IFloatUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Max(x, T.Zero) + T.Log(T.One + T.Exp(-T.Abs(x)));

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Abs(x, destination);
        TensorPrimitives.Negate(destination, destination);
        TensorPrimitives.Exp(destination, destination);
        TensorPrimitives.Add(destination, T.One, destination);
        TensorPrimitives.Log(destination, destination);
        VectorOps.AddPositivePart(x, destination);
        return true;
    }
}
