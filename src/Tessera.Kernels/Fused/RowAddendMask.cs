using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tessera.Kernels.Fused;

/// <summary>A mask row added value by value to a row of scaled scores.</summary>
internal readonly unsafe struct RowAddendMask(float* mask) : IRowAddend
{
    public static bool Has512BitLoop => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int i) => mask[i];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Vector256At(int i) => Vector256.Load(mask + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Vector512At(int i) => Vector512.Load(mask + i);
}
