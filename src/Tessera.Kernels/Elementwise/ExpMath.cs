using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Tessera.Kernels.Elementwise.MultiplyAddMath;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// exp in float arithmetic: n = round(x·log2 e), r = x - n·ln 2 in two parts, Cephes' degree-7 polynomial for e^r,
/// and 2^n put into the exponent bits. Within 1 ulp of exp from -87.33 (the smallest normal float's logarithm) to
/// 88.37; below that 0 (softmax cannot tell a term 10^-38 of its row's largest from the denormal, and GELU's
/// x / (1 + e^(-2u)) is then x); +infinity above 88.37 (GELU's quotient is then -0 against a denormal); NaN stays NaN.
/// .NET's Vector512.Exp widens to double for the last bit; with this one a Softmax over 8 x 4 x 128 x 128 floats (BERT
/// b8 s128's attention scores) went from 0.30 to 0.23 ms with AVX-512 and from 0.59 to 0.49 ms on the AVX2 path
/// (bench min, same run). Its multiply-adds are fused where the processor has FMA (<see cref="MultiplyAddMath"/>): on
/// the 256-bit tier the exponential was a third more instructions without (GELU and softmax's exp are most of int8
/// GPT's time outside the products there). The same arithmetic at every width, so a lane's bits do not depend on the
/// vector it is in.
/// </summary>
internal static class ExpMath
{
    // 1.5·2^23: x·log2 e + this, in float, is x·log2 e rounded to an integer n (ties to even) held in the low
    // mantissa bits, so n = that − 1.5·2^23 and 2^n's exponent is those bits + 127 shifted up 23 (the higher bits fall
    // out), without a float-to-int conversion (.NET's saturates, at three more instructions per vector).
    private const float RoundingShift = 12582912f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float Lowest = -87.33654f;
    private const float Highest = 88.37f;
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var t = MultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(RoundingShift));
        var n = t - Vector512.Create(RoundingShift);
        var r = MultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = MultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        var p = MultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = MultiplyAdd(p, r, Vector512.Create(P2));
        p = MultiplyAdd(p, r, Vector512.Create(P3));
        p = MultiplyAdd(p, r, Vector512.Create(P4));
        p = MultiplyAdd(p, r, Vector512.Create(P5));
        var y = MultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var twoToN = Vector512.ShiftLeft(t.AsInt32() + Vector512.Create(127), 23).AsSingle();
        var e = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lowest)), Vector512<float>.Zero, y * twoToN);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Highest)), Vector512.Create(float.PositiveInfinity), e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Highest)), Vector256.Create(float.PositiveInfinity), ExpNotAbove(x));

    /// <summary>
    /// <see cref="Exp(Vector256{float})"/> for lanes at most 88.37 (or NaN), as softmax's x - max: the same bits there,
    /// without the overflow select, whose compare, blend and one more constant register (AVX2 has 16) the row loop then
    /// need not carry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNotAbove(Vector256<float> x)
    {
        var t = MultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(RoundingShift));
        var n = t - Vector256.Create(RoundingShift);
        var r = MultiplyAdd(n, Vector256.Create(-Ln2High), x);
        r = MultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        var p = MultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = MultiplyAdd(p, r, Vector256.Create(P2));
        p = MultiplyAdd(p, r, Vector256.Create(P3));
        p = MultiplyAdd(p, r, Vector256.Create(P4));
        p = MultiplyAdd(p, r, Vector256.Create(P5));
        var y = MultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var twoToN = Vector256.ShiftLeft(t.AsInt32() + Vector256.Create(127), 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lowest)), Vector256<float>.Zero, y * twoToN);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var t = MultiplyAdd(x, Vector128.Create(Log2E), Vector128.Create(RoundingShift));
        var n = t - Vector128.Create(RoundingShift);
        var r = MultiplyAdd(n, Vector128.Create(-Ln2High), x);
        r = MultiplyAdd(n, Vector128.Create(-Ln2Low), r);
        var p = MultiplyAdd(Vector128.Create(P0), r, Vector128.Create(P1));
        p = MultiplyAdd(p, r, Vector128.Create(P2));
        p = MultiplyAdd(p, r, Vector128.Create(P3));
        p = MultiplyAdd(p, r, Vector128.Create(P4));
        p = MultiplyAdd(p, r, Vector128.Create(P5));
        var y = MultiplyAdd(p, r * r, r) + Vector128<float>.One;
        var twoToN = Vector128.ShiftLeft(t.AsInt32() + Vector128.Create(127), 23).AsSingle();
        var e = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(Lowest)), Vector128<float>.Zero, y * twoToN);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(Highest)), Vector128.Create(float.PositiveInfinity), e);
    }
}
