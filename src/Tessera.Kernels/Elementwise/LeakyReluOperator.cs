using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x &lt; 0 ? alpha * x : x.</summary>
internal readonly struct LeakyReluOperator(float alpha) : IFloatUnaryOperator
{
    private readonly float _alpha = alpha;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x < T.Zero ? T.CreateTruncating(_alpha) * x : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(x, T.CreateTruncating(_alpha), destination);
        VectorOps.SelectNegative(x, destination, destination);
        return true;
    }
}
