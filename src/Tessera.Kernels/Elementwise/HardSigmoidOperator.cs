using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Elementwise;

/// <summary>max(0, min(1, alpha * x + beta)).</summary>
internal readonly struct HardSigmoidOperator(double alpha, double beta) : IFloatUnaryOperator
{
    private readonly double _alpha = alpha;
    private readonly double _beta = beta;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Max(T.Zero, T.Min(T.One, T.CreateTruncating(_alpha) * x + T.CreateTruncating(_beta)));

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            HardSigmoidMath.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination), (float)_alpha, (float)_beta, swish: false);
            return true;
        }

        TensorPrimitives.Multiply(x, T.CreateTruncating(_alpha), destination);
        TensorPrimitives.Add(destination, T.CreateTruncating(_beta), destination);
        TensorPrimitives.Clamp(destination, T.Zero, T.One, destination);
        return true;
    }
}
