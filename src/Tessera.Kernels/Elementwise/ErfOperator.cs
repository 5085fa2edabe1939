using System.Numerics;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Elementwise;

/// <summary>The error function; float runs use <see cref="ErfMath"/>'s SIMD rational approximation.</summary>
internal readonly struct ErfOperator : IFloatUnaryOperator
{
    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => typeof(T) == typeof(double)
        ? T.CreateTruncating(ErfMath.Erf(double.CreateTruncating(x)))
        : T.CreateTruncating(ErfMath.Erf(float.CreateTruncating(x)));

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float))
        {
            return false;
        }

        ErfMath.Erf(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination));
        return true;
    }
}
