namespace Tessera.Kernels.Quantization;

/// <summary>The integer GEMM's micro-kernels, best first. .NET 10 exposes VNNI's vpdpbusd at 256 bits only (AvxVnni).</summary>
internal enum QgemmIsa
{
    Portable,
    Avx2,
    AvxVnni,
}
