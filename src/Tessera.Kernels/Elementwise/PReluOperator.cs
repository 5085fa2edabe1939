using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>x &lt; 0 ? slope * x : x, with x first and the slope second.</summary>
internal readonly struct PReluOperator : INumericBinaryOperator
{
    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T> => x < T.Zero ? unchecked(x * y) : x;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!VectorOps.IsAccelerated<T>())
        {
            return false;
        }

        TensorPrimitives.Multiply(x, y, destination);
        VectorOps.SelectNegative(x, destination, destination);
        return true;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (!VectorOps.IsAccelerated<T>())
        {
            return false;
        }

        TensorPrimitives.Multiply(x, y, destination);
        VectorOps.SelectNegative(x, destination, destination);
        return true;
    }

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T>
    {
        if (x < T.Zero)
        {
            TensorPrimitives.Multiply(y, x, destination);
        }
        else
        {
            destination.Fill(x);
        }

        return true;
    }
}
