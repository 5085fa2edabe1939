using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// 6 x 16 tile with AVX2 on 7-bit weights (B within [-64, 64], ONNX Runtime's reduce_range), in VNNI's byte layout:
/// per K group one broadcast of 4 A bytes per row, vpmaddubsw against 16 columns of 4 signed B bytes (two u8 · s8
/// products summed into int16: at most 2 · 255 · 64 = 32640, so it cannot saturate), then vpmaddwd with 16-bit ones
/// to sum the two pairs into int32. 64 multiply-adds per row in 6 vector operations where the widened step
/// (<see cref="QgemmMicroKernelAvx2"/>) needs 10, and A and B stay bytes. Only for B packed by
/// <see cref="QgemmConfig.ForWeights"/>, which checks the range: with 8-bit B the pair sums would saturate.
/// </summary>
internal readonly unsafe struct QgemmMicroKernelAvx2Bytes : IQgemmStep
{
    public const int Mr = 6;

    public static void Run(byte* a, nint lda, byte* b, int groups, int* tile) => QgemmTile6x16<QgemmMicroKernelAvx2Bytes>.Run(a, lda, b, groups, tile);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Accumulate(Vector256<int> sums, Vector256<int> a, Vector256<int> b) =>
        Avx2.Add(sums, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a.AsByte(), b.AsSByte()), Vector256.Create((short)1)));
}
