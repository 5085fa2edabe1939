namespace Tessera.Kernels.Quantization;

/// <summary>
/// The integer GEMM's micro-kernels, lowest first (TESSERA_QGEMM may only pick one below the machine's best). .NET 10
/// exposes VNNI's vpdpbusd at 256 bits only (AvxVnni); Avx512Bw is the 16-bit widened kernel at 512 bits, the best
/// on AVX-512 CPUs without AVX-VNNI, below AvxVnni where both exist (not measured there: that choice is kept).
/// </summary>
internal enum QgemmIsa
{
    Portable,
    Avx2,
    Avx512Bw,
    AvxVnni,

    // Not machine tiers: the kernels on 7-bit weights, chosen per packed B (QgemmConfig.ForWeights), never by
    // TESSERA_QGEMM (which only lowers the tier, and these sort above every tier).
    Avx2Bytes,
    Avx512Bytes,
}
