using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Tessera.Kernels.Elementwise;
using static Tessera.Kernels.Elementwise.MultiplyAddMath;

namespace Tessera.Kernels.Fused;

/// <summary>
/// GELU's tanh form on float32 in one pass: 0.5·x·(1 + tanh(u)) with u = √(2/π)·x·(1 + 0.044715·x²) is x·σ(2u) =
/// x / (1 + e^(−2u)), one exponential and one division per element instead of eight whole-span passes around a tanh
/// (which were a quarter of a GPT-style decoder's time). The exponential is <see cref="ExpMath"/>'s float one (within
/// 1 ulp; .NET's Vector512.Exp widens to double and was most of this function's time). Every element, the tail of a
/// run too, takes the same vector code (<see cref="FloatVectorMap"/>), so its bits do not depend on where it falls in
/// a run or a tile.
/// </summary>
internal readonly struct GeluTanhMath : IFloatVectorFunction
{
    private const float MinusTwoSqrt2OverPi = -1.5957691216f; // −2u = x·(−2√(2/π))·(1 + 0.044715·x²)
    private const float Cubic = 0.044715f;

    public static void Apply(ReadOnlySpan<float> x, Span<float> destination) => FloatVectorMap.Apply(x, destination, default(GeluTanhMath));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> x)
    {
        var minusTwoU = x * Vector512.Create(MinusTwoSqrt2OverPi) * MultiplyAdd(x * x, Vector512.Create(Cubic), Vector512<float>.One);
        return x / (Vector512<float>.One + ExpMath.Exp(minusTwoU));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> x)
    {
        var minusTwoU = x * Vector256.Create(MinusTwoSqrt2OverPi) * MultiplyAdd(x * x, Vector256.Create(Cubic), Vector256<float>.One);
        return x / (Vector256<float>.One + ExpMath.Exp(minusTwoU));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Apply(Vector128<float> x)
    {
        var minusTwoU = x * Vector128.Create(MinusTwoSqrt2OverPi) * MultiplyAdd(x * x, Vector128.Create(Cubic), Vector128<float>.One);
        return x / (Vector128<float>.One + ExpMath.Exp(minusTwoU));
    }
}
