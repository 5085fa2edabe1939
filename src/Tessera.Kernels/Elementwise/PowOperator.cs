using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// x ^ y with the base's type for the result (opset 12+ lets the exponent's type differ). Integer powers with a
/// non-negative integer exponent are exact (wrapping); everything else goes through double and is converted back.
/// </summary>
internal readonly struct PowOperator<TB, TE> : IBinarySpanOperator<TB, TE, TB>
    where TB : unmanaged, INumber<TB>
    where TE : unmanaged, INumber<TE>
{
    public static TB Invoke(TB x, TE y)
    {
        if (!ElementTypes.IsFloat<TB>() && !ElementTypes.IsFloat<TE>() && y >= TE.Zero)
        {
            return IntegerPower(x, ulong.CreateTruncating(y));
        }

        return TB.CreateTruncating(Math.Pow(double.CreateTruncating(x), double.CreateTruncating(y)));
    }

    public void Invoke(ReadOnlySpan<TB> x, ReadOnlySpan<TE> y, Span<TB> destination)
    {
        if (typeof(TB) == typeof(float) && typeof(TE) == typeof(float))
        {
            TensorPrimitives.Pow(MemoryMarshal.Cast<TB, float>(x), MemoryMarshal.Cast<TE, float>(y), MemoryMarshal.Cast<TB, float>(destination));
            return;
        }

        if (typeof(TB) == typeof(double) && typeof(TE) == typeof(double))
        {
            TensorPrimitives.Pow(MemoryMarshal.Cast<TB, double>(x), MemoryMarshal.Cast<TE, double>(y), MemoryMarshal.Cast<TB, double>(destination));
            return;
        }

        for (int i = 0; i < destination.Length; i++) destination[i] = Invoke(x[i], y[i]);
    }

    public void Invoke(ReadOnlySpan<TB> x, TE y, Span<TB> destination)
    {
        // Squares and identities are common in decomposed normalizations; both are exact as multiplications.
        if (ElementTypes.IsFloat<TB>() && y == TE.One + TE.One)
        {
            TensorPrimitives.Multiply(x, x, destination);
            return;
        }

        if (y == TE.One)
        {
            x.CopyTo(destination);
            return;
        }

        if (typeof(TB) == typeof(float) && typeof(TE) == typeof(float))
        {
            TensorPrimitives.Pow(MemoryMarshal.Cast<TB, float>(x), float.CreateTruncating(y), MemoryMarshal.Cast<TB, float>(destination));
            return;
        }

        if (typeof(TB) == typeof(double) && typeof(TE) == typeof(double))
        {
            TensorPrimitives.Pow(MemoryMarshal.Cast<TB, double>(x), double.CreateTruncating(y), MemoryMarshal.Cast<TB, double>(destination));
            return;
        }

        for (int i = 0; i < destination.Length; i++) destination[i] = Invoke(x[i], y);
    }

    public void Invoke(TB x, ReadOnlySpan<TE> y, Span<TB> destination)
    {
        if (typeof(TB) == typeof(float) && typeof(TE) == typeof(float))
        {
            TensorPrimitives.Pow(float.CreateTruncating(x), MemoryMarshal.Cast<TE, float>(y), MemoryMarshal.Cast<TB, float>(destination));
            return;
        }

        for (int i = 0; i < destination.Length; i++) destination[i] = Invoke(x, y[i]);
    }

    private static TB IntegerPower(TB x, ulong n)
    {
        TB result = TB.One;
        while (n != 0)
        {
            if ((n & 1) != 0) result = unchecked(result * x);
            n >>= 1;
            if (n != 0) x = unchecked(x * x);
        }

        return result;
    }
}
