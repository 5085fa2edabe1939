using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>max(0, min(1, alpha * x + beta)).</summary>
internal readonly struct HardSigmoidOperator(float alpha, float beta) : IFloatUnaryOperator
{
    private readonly float _alpha = alpha;
    private readonly float _beta = beta;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Max(T.Zero, T.Min(T.One, T.CreateTruncating(_alpha) * x + T.CreateTruncating(_beta)));

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(x, T.CreateTruncating(_alpha), destination);
        TensorPrimitives.Add(destination, T.CreateTruncating(_beta), destination);
        TensorPrimitives.Clamp(destination, T.Zero, T.One, destination);
        return true;
    }
}
