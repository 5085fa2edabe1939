using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Pooling;

/// <summary>The associative combine step of a pool (max or sum), as a scalar and as a SIMD span operation.</summary>
internal interface IPoolReduction<T>
{
    static abstract T Combine(T a, T b);

    /// <summary>dest[i] = Combine(x[i], y[i]); dest may alias x.</summary>
    static abstract void Combine(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest);

    static abstract Vector128<T> Combine(Vector128<T> a, Vector128<T> b);

    /// <summary>The value of a window with no taps inside the input.</summary>
    static abstract T Empty { get; }
}
