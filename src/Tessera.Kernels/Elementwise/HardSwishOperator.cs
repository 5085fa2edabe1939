using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Elementwise;

/// <summary>x * max(0, min(1, x / 6 + 0.5)).</summary>
internal readonly struct HardSwishOperator : IFloatUnaryOperator
{
    private static HardSigmoidOperator Gate => new(1.0 / 6.0, 0.5);

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x * Gate.Invoke(x);

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            HardSigmoidMath.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination), 1f / 6f, 0.5f, swish: true);
            return true;
        }

        Gate.TryInvoke(x, destination);
        TensorPrimitives.Multiply(destination, x, destination);
        return true;
    }
}
