using System.Numerics;
using System.Numerics.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>min(max(x, lower), upper), either bound optional; when lower &gt; upper every element becomes upper (as numpy.clip).</summary>
internal readonly struct ClipOperator<T>(T? lower, T? upper) : IUnarySpanOperator<T, T>
    where T : unmanaged, INumber<T>
{
    private readonly T? _lower = lower;
    private readonly T? _upper = upper;

    public T Invoke(T x)
    {
        if (_lower is T lo) x = T.Max(x, lo);
        if (_upper is T hi) x = T.Min(x, hi);
        return x;
    }

    public void Invoke(ReadOnlySpan<T> x, Span<T> destination)
    {
        if (_lower is T lo)
        {
            TensorPrimitives.Max(x, lo, destination);
        }
        else
        {
            x.CopyTo(destination);
        }

        if (_upper is T hi)
        {
            TensorPrimitives.Min(destination, hi, destination);
        }
    }
}
