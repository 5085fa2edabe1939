namespace Tessera.Cli.Bench.Gemm;

/// <summary>The product `bench-gemm` runs: the float SGEMM, or the u8 × s8 integer GEMM with float output.</summary>
internal enum GemmDtype
{
    Float,
    Int8,
}
