using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX-512BW on 7-bit weights: <see cref="QgemmMicroKernelAvx2Bytes"/>'s step (vpmaddubsw, then
/// vpmaddwd with ones) with a whole 16-column panel of one K group (64 bytes) in one 512-bit vector, in the same tile
/// as the widened pairs (<see cref="QgemmTile6x16x512{TStep}"/>).
/// </summary>
internal readonly unsafe struct QgemmMicroKernelAvx512Bytes : IQgemmStep512
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => QgemmTile6x16x512<QgemmMicroKernelAvx512Bytes>.Run(a, lda, b, groups, tile);

    // One row's K group (4 A bytes, broadcast) against the panel's 16 columns of that group.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Accumulate(Vector512<int> sums, Vector512<int> a, Vector512<int> b) =>
        Avx512F.Add(sums, Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a.AsByte(), b.AsSByte()), Vector512.Create((short)1)));
}
