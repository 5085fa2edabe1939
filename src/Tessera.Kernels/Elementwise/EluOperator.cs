using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x &lt; 0 ? alpha * (e^x - 1) : x.</summary>
internal readonly struct EluOperator(float alpha) : IFloatUnaryOperator
{
    private readonly float _alpha = alpha;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        x < T.Zero ? T.CreateTruncating(_alpha) * (T.Exp(x) - T.One) : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Computed for every element and then selected: branch-free, and the positive side's values are discarded.
        TensorPrimitives.Exp(x, destination);
        TensorPrimitives.Subtract(destination, T.One, destination);
        TensorPrimitives.Multiply(destination, T.CreateTruncating(_alpha), destination);
        VectorOps.SelectNegative(x, destination, destination);
        return true;
    }
}
