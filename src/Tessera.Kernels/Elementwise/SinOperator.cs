using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>sine.</summary>
internal readonly struct SinOperator : IFloatUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Sin(x);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Sin(x, destination);
        return true;
    }
}
