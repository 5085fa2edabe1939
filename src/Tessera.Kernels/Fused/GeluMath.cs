using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>
/// Exact-form GELU, 0.5·x·(1 + erf(x/√2)), in one vector pass evaluated in single precision: the erf rational of
/// <see cref="Elementwise.ErfMath"/> (x·P(x²)/Q(x²), argument clamped where erf saturates) without its double-precision
/// evaluation. That costs a few ulp of erf, far inside what GELU's consumers tolerate, and avoids the double divisions
/// that made GELU a third of a transformer's feed-forward layer.
/// </summary>
internal static class GeluMath
{
    private const float InverseSqrt2 = 0.70710678118654752f;
    private const float Saturation = 3.832506856900711f;
    private const float A1 = 1.128379143519084f;
    private const float A3 = 0.18520832239976145f;
    private const float A5 = 0.050955695062380861f;
    private const float A7 = 0.0034082910107109506f;
    private const float A9 = 0.00022905065861350646f;
    private const float B2 = 0.49746925110067538f;
    private const float B4 = 0.11098505178285362f;
    private const float B6 = 0.014070470171167667f;
    private const float B8 = 0.0010179625278914885f;
    private const float B10 = 0.000023547966471313185f;
    private const float B12 = -1.1791602954361697e-7f;

    /// <summary>destination[i] = GELU(x[i]); the spans may be the same.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        int n = destination.Length;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Gelu(Vector512.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
            }
        }
        else
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Gelu(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        if (i < n)
        {
            // The tail goes through the same vector code, so every element gets the same rounding wherever it sits.
            Span<float> tail = stackalloc float[Vector512<float>.Count];
            tail.Clear();
            x[i..n].CopyTo(tail);
            if (Vector512.IsHardwareAccelerated)
            {
                Gelu(Vector512.Create<float>(tail)).CopyTo(tail);
            }
            else
            {
                Gelu(Vector256.Create<float>(tail)).CopyTo(tail);
            }

            tail[..(n - i)].CopyTo(destination[i..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gelu(Vector512<float> x)
    {
        var t = Vector512.Min(Vector512.Max(x * InverseSqrt2, Vector512.Create(-Saturation)), Vector512.Create(Saturation));
        var t2 = t * t;
        var p = Vector512.FusedMultiplyAdd(t2, Vector512.Create(A9), Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(t2, p, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(t2, p, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(t2, p, Vector512.Create(A1));
        var q = Vector512.FusedMultiplyAdd(t2, Vector512.Create(B12), Vector512.Create(B10));
        q = Vector512.FusedMultiplyAdd(t2, q, Vector512.Create(B8));
        q = Vector512.FusedMultiplyAdd(t2, q, Vector512.Create(B6));
        q = Vector512.FusedMultiplyAdd(t2, q, Vector512.Create(B4));
        q = Vector512.FusedMultiplyAdd(t2, q, Vector512.Create(B2));
        q = Vector512.FusedMultiplyAdd(t2, q, Vector512<float>.One);
        var erf = Vector512.Min(Vector512.Max(t * p / q, Vector512.Create(-1f)), Vector512<float>.One);
        var half = x * 0.5f;
        return Vector512.FusedMultiplyAdd(half, erf, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gelu(Vector256<float> x)
    {
        var t = Vector256.Min(Vector256.Max(x * InverseSqrt2, Vector256.Create(-Saturation)), Vector256.Create(Saturation));
        var t2 = t * t;
        var p = Vector256.FusedMultiplyAdd(t2, Vector256.Create(A9), Vector256.Create(A7));
        p = Vector256.FusedMultiplyAdd(t2, p, Vector256.Create(A5));
        p = Vector256.FusedMultiplyAdd(t2, p, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(t2, p, Vector256.Create(A1));
        var q = Vector256.FusedMultiplyAdd(t2, Vector256.Create(B12), Vector256.Create(B10));
        q = Vector256.FusedMultiplyAdd(t2, q, Vector256.Create(B8));
        q = Vector256.FusedMultiplyAdd(t2, q, Vector256.Create(B6));
        q = Vector256.FusedMultiplyAdd(t2, q, Vector256.Create(B4));
        q = Vector256.FusedMultiplyAdd(t2, q, Vector256.Create(B2));
        q = Vector256.FusedMultiplyAdd(t2, q, Vector256<float>.One);
        var erf = Vector256.Min(Vector256.Max(t * p / q, Vector256.Create(-1f)), Vector256<float>.One);
        var half = x * 0.5f;
        return Vector256.FusedMultiplyAdd(half, erf, half);
    }
}
