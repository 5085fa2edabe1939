using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// The error function. Float uses the odd/even rational approximation x·P(x²)/Q(x²) on [-4, 4] that Eigen, XLA
/// and ONNX Runtime use (absolute error about 1e-7, which GELU needs); double sums a series without cancellation.
/// </summary>
internal static class ErfMath
{
    private const float A13 = -2.72614225801306e-10f;
    private const float A11 = 2.77068142495902e-08f;
    private const float A9 = -2.10102402082508e-06f;
    private const float A7 = -5.69250639462346e-05f;
    private const float A5 = -7.34990630326855e-04f;
    private const float A3 = -2.95459980854025e-03f;
    private const float A1 = -1.60960333262415e-02f;
    private const float B8 = -1.45660718464996e-05f;
    private const float B6 = -2.13374055278905e-04f;
    private const float B4 = -1.68282697438203e-03f;
    private const float B2 = -7.37332916720468e-03f;
    private const float B0 = -1.42647390514189e-02f;

    public static float Erf(float x)
    {
        if (float.IsNaN(x))
        {
            return x;
        }

        x = Math.Clamp(x, -4f, 4f);
        float x2 = x * x;
        float p = MathF.FusedMultiplyAdd(x2, A13, A11);
        p = MathF.FusedMultiplyAdd(x2, p, A9);
        p = MathF.FusedMultiplyAdd(x2, p, A7);
        p = MathF.FusedMultiplyAdd(x2, p, A5);
        p = MathF.FusedMultiplyAdd(x2, p, A3);
        p = MathF.FusedMultiplyAdd(x2, p, A1);
        float q = MathF.FusedMultiplyAdd(x2, B8, B6);
        q = MathF.FusedMultiplyAdd(x2, q, B4);
        q = MathF.FusedMultiplyAdd(x2, q, B2);
        q = MathF.FusedMultiplyAdd(x2, q, B0);
        return Math.Clamp(x * p / q, -1f, 1f);
    }

    public static void Erf(ReadOnlySpan<float> x, Span<float> destination)
    {
        int n = destination.Length;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Erf(Vector512.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Erf(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref rd, i) = Erf(Unsafe.Add(ref rx, i));
        }
    }

    private static Vector512<float> Erf(Vector512<float> v)
    {
        var x = Vector512.Clamp(v, Vector512.Create(-4f), Vector512.Create(4f));
        var x2 = x * x;
        var p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A13), Vector512.Create(A11));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A9));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
        var q = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B8), Vector512.Create(B6));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B4));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B2));
        q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B0));
        var r = Vector512.Clamp(x * p / q, Vector512.Create(-1f), Vector512.Create(1f));
        return Vector512.ConditionalSelect(Vector512.Equals(v, v), r, v);
    }

    private static Vector256<float> Erf(Vector256<float> v)
    {
        var x = Vector256.Clamp(v, Vector256.Create(-4f), Vector256.Create(4f));
        var x2 = x * x;
        var p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(A13), Vector256.Create(A11));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A9));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A7));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A5));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A1));
        var q = Vector256.FusedMultiplyAdd(x2, Vector256.Create(B8), Vector256.Create(B6));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B4));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B2));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B0));
        var r = Vector256.Clamp(x * p / q, Vector256.Create(-1f), Vector256.Create(1f));
        return Vector256.ConditionalSelect(Vector256.Equals(v, v), r, v);
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
