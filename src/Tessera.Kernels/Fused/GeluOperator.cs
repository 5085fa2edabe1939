using System.Numerics;
using System.Runtime.InteropServices;
using Tessera.Kernels.Elementwise;

namespace Tessera.Kernels.Fused;

/// <summary>GELU, exact form: 0.5·x·(1 + erf(x/√2)). Float chunks run in one single-precision vector pass (<see cref="GeluMath"/>).</summary>
internal readonly struct GeluOperator : IFloatUnaryOperator
{
    private const double InvSqrt2 = 0.70710678118654752440;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            double d = double.CreateTruncating(x);
            return T.CreateTruncating(0.5 * d * (1 + ErfMath.Erf(d * InvSqrt2)));
        }

        float f = float.CreateTruncating(x);
        return T.CreateTruncating(0.5f * f * (1 + ErfMath.Erf(f * (float)InvSqrt2)));
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float))
        {
            return false;
        }

        GeluMath.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination));
        return true;
    }
}
