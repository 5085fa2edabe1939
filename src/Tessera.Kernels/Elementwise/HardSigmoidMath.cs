using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// HardSigmoid, max(0, min(1, alpha * x + beta)), and HardSwish, x times it, on float32 in one pass over the data
/// (the same multiply, add, clamp and multiply, each rounded, as four whole-span passes did: MobileNet-style models
/// apply these to every activation, and four passes were a seventh of PP-OCR's recogniser on the AVX2 path).
/// </summary>
internal readonly struct HardSigmoidMath(float alpha, float beta, bool swish) : IFloatVectorFunction
{
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination, float alpha, float beta, bool swish) =>
        FloatVectorMap.Apply(x, destination, new HardSigmoidMath(alpha, beta, swish));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> x)
    {
        var g = Vector512.Min(Vector512.Max(x * Vector512.Create(alpha) + Vector512.Create(beta), Vector512<float>.Zero), Vector512<float>.One);
        return swish ? x * g : g;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> x)
    {
        var g = Vector256.Min(Vector256.Max(x * Vector256.Create(alpha) + Vector256.Create(beta), Vector256<float>.Zero), Vector256<float>.One);
        return swish ? x * g : g;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Apply(Vector128<float> x)
    {
        var g = Vector128.Min(Vector128.Max(x * Vector128.Create(alpha) + Vector128.Create(beta), Vector128<float>.Zero), Vector128<float>.One);
        return swish ? x * g : g;
    }
}
