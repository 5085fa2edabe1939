using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-VNNI: per K group one broadcast of 4 A bytes per row and vpdpbusd against 16 columns of 4
/// signed B bytes, summed into exact int32 (the non-saturating form).
/// </summary>
internal readonly unsafe struct QgemmMicroKernelVnni : IQgemmStep
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => QgemmTile6x16<QgemmMicroKernelVnni>.Run(a, lda, b, groups, tile);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> sums, Vector256<int> a, Vector256<int> b) =>
        AvxVnni.MultiplyWideningAndAdd(sums, a.AsByte(), b.AsSByte());
}
