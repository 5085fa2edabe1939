using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// The error function. Float uses the 9/12-degree odd/even rational interpolant x·P(x²)/Q(x²) of Eigen, XLA and
/// ONNX Runtime, saturating to ±1 beyond erfinv(1 - 2^-23); evaluating it in double keeps the result within
/// 7.4e-8 of erf (GELU depends on it), where float evaluation drifts to about 4 ulp. Double sums a series.
/// </summary>
internal readonly struct ErfMath : IFloatVectorFunction
{
    // Beyond this |x|, erf(x) rounds to ±1 in single precision.
    private const float Saturation = 3.832506856900711f;
    private const double A1 = (double)1.128379143519084f;
    private const double A3 = (double)0.18520832239976145f;
    private const double A5 = (double)0.050955695062380861f;
    private const double A7 = (double)0.0034082910107109506f;
    private const double A9 = (double)0.00022905065861350646f;
    private const double B2 = (double)0.49746925110067538f;
    private const double B4 = (double)0.11098505178285362f;
    private const double B6 = (double)0.014070470171167667f;
    private const double B8 = (double)0.0010179625278914885f;
    private const double B10 = (double)0.000023547966471313185f;
    private const double B12 = (double)-1.1791602954361697e-7f;

    public static float Erf(float x)
    {
        if (!(Math.Abs(x) < Saturation))
        {
            return float.IsNaN(x) ? x : MathF.CopySign(1f, x);
        }

        double d = x;
        double x2 = d * d;
        double p = Math.FusedMultiplyAdd(x2, A9, A7);
        p = Math.FusedMultiplyAdd(x2, p, A5);
        p = Math.FusedMultiplyAdd(x2, p, A3);
        p = Math.FusedMultiplyAdd(x2, p, A1);
        double q = Math.FusedMultiplyAdd(x2, B12, B10);
        q = Math.FusedMultiplyAdd(x2, q, B8);
        q = Math.FusedMultiplyAdd(x2, q, B6);
        q = Math.FusedMultiplyAdd(x2, q, B4);
        q = Math.FusedMultiplyAdd(x2, q, B2);
        q = Math.FusedMultiplyAdd(x2, q, 1.0);
        return (float)(d * p / q);
    }

    public static void Erf(ReadOnlySpan<float> x, Span<float> destination) => FloatVectorMap.Apply(x, destination, default(ErfMath));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> x)
    {
        var (lower, upper) = Vector512.Widen(x);
        return Finish(x, Vector512.Narrow(Rational(lower), Rational(upper)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> x)
    {
        var (lower, upper) = Vector256.Widen(x);
        return Finish(x, Vector256.Narrow(Rational(lower), Rational(upper)));
    }

    // Without AVX2 each lane takes the scalar form, which computes the same bits in the same double operations.
    public Vector128<float> Apply(Vector128<float> x) => Vector128.Create(Erf(x[0]), Erf(x[1]), Erf(x[2]), Erf(x[3]));

    private static Vector512<double> Rational(Vector512<double> x)
    {
        var x2 = x * x;
        var p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A9), Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
        var q = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B12), Vector512.Create(B10));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B8));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B6));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B4));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B2));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512<double>.One);
        return x * p / q;
    }

    private static Vector256<double> Rational(Vector256<double> x)
    {
        var x2 = x * x;
        var p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(A9), Vector256.Create(A7));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A5));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A1));
        var q = Vector256.FusedMultiplyAdd(x2, Vector256.Create(B12), Vector256.Create(B10));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B8));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B6));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B4));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B2));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256<double>.One);
        return x * p / q;
    }

    // Saturated lanes become ±1; NaN fails the range test as well and is passed through.
    private static Vector512<float> Finish(Vector512<float> x, Vector512<float> r)
    {
        var inRange = Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Saturation));
        var isNaN = ~Vector512.Equals(x, x);
        return Vector512.ConditionalSelect(inRange, r, Vector512.ConditionalSelect(isNaN, x, Vector512.CopySign(Vector512<float>.One, x)));
    }

    private static Vector256<float> Finish(Vector256<float> x, Vector256<float> r)
    {
        var inRange = Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Saturation));
        var isNaN = ~Vector256.Equals(x, x);
        return Vector256.ConditionalSelect(inRange, r, Vector256.ConditionalSelect(isNaN, x, Vector256.CopySign(Vector256<float>.One, x)));
    }

    /// <summary>
    /// erf(x) = 2/√π · e^(-x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): every term is positive, so the sum is accurate
    /// to a few ulps; beyond |x| = 6 erf is ±1 in double precision.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double ax = Math.Abs(x);
        if (ax >= 6)
        {
            return Math.CopySign(1.0, x);
        }

        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int k = 1; k < 400; k++)
        {
            term *= 2 * x2 / (2 * k + 1);
            sum += term;
            if (term < sum * 1e-17)
            {
                break;
            }
        }

        double result = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        return Math.CopySign(Math.Min(result, 1.0), x);
    }
}
