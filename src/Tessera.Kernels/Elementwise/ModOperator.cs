using System.Numerics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// ONNX Mod. With fmod the remainder takes the dividend's sign (C fmod); without, the divisor's (Python's %).
/// A zero integer divisor yields 0 rather than faulting.
/// </summary>
internal readonly struct ModOperator(bool fmod) : INumericBinaryOperator
{
    private readonly bool _fmod = fmod;

    public T Invoke<T>(T x, T y) where T : unmanaged, INumber<T>
    {
        T r;
        if (ElementTypes.IsFloat<T>())
        {
            r = x % y;
        }
        else if (y == T.Zero || (T.IsNegative(y) && y == -T.One))
        {
            return T.Zero;
        }
        else
        {
            r = x % y;
        }

        if (!_fmod && r != T.Zero && T.IsNegative(r) != T.IsNegative(y))
        {
            r += y;
        }

        return r;
    }

    public bool TryInvoke<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T> => false;

    public bool TryInvoke<T>(ReadOnlySpan<T> x, T y, Span<T> destination) where T : unmanaged, INumber<T> => false;

    public bool TryInvoke<T>(T x, ReadOnlySpan<T> y, Span<T> destination) where T : unmanaged, INumber<T> => false;
}
