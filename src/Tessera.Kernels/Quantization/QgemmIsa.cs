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
}
