using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x * max(0, min(1, x / 6 + 0.5)).</summary>
internal readonly struct HardSwishOperator : IFloatUnaryOperator
{
    private static HardSigmoidOperator Gate => new(1f / 6f, 0.5f);

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x * Gate.Invoke(x);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Gate.TryInvoke(x, destination);
        TensorPrimitives.Multiply(destination, x, destination);
        return true;
    }
}
