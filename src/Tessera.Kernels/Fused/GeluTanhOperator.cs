using System.Numerics;
using System.Runtime.InteropServices;
using Tessera.Kernels.Elementwise;

namespace Tessera.Kernels.Fused;

/// <summary>GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), evaluated as √(2/π)·x·(1 + 0.044715·x²) inside.</summary>
internal readonly struct GeluTanhOperator : IFloatUnaryOperator
{
    private const double Sqrt2OverPi = 0.79788456080286535588;
    private const double Cubic = 0.044715;

    public T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double d = double.CreateTruncating(x);
        return T.CreateTruncating(0.5 * d * (1 + Math.Tanh(Sqrt2OverPi * (d + Cubic * d * d * d))));
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float))
        {
            return false;
        }

        GeluTanhMath.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination));
        return true;
    }
}
