using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>One value added to every scaled score of a row (a mask broadcast along it, or 0 without a mask).</summary>
internal readonly struct RowAddendValue(float value) : IRowAddend
{
    // Broadcast once, not at every step of the loop.
    private readonly Vector256<float> _vector = Vector256.Create(value);

    public static bool Has512BitLoop => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int i) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Vector256At(int i) => _vector;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Vector512At(int i) => Vector512.Create(value);
}
