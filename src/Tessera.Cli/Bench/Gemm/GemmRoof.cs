using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Linear;
using Tessera.Kernels.Quantization;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// The one-thread roof a GEMM kernel is read against: the instruction its micro-kernel is built on, run by the same
/// twelve-chain loops as `tessera roofline` (<see cref="FmaRoofline"/>, <see cref="WidenedRoofline"/>,
/// <see cref="VnniRoofline"/>, <see cref="BytesRoofline"/>) at the kernel's vector width. Null where this process runs no such instruction
/// (the Vector128 kernels without FMA, and the portable int8 kernel, whose roof `tessera roofline` does not measure).
/// </summary>
internal sealed class GemmRoof(string name, Func<long, double> chains, double operationsPerStep)
{
    // Operations per step: twelve chains of one instruction each, times its 32-bit lanes, times operations per lane
    // (an FMA's multiply-add is 2, vpmaddwd's two 16-bit products 4, vpdpbusd's and the byte step's four byte products 8), as roofline counts.
    private static readonly double s_chains = FmaRoofline.Chains;

    public string Name { get; } = name;

    public TimedWork Work { get; } = new(operationsPerStep, steps => chains(steps));

    // With 7-bit weights the kernel is the one QgemmConfig.ForWeights picks (the byte step where the machine has no VNNI,
    // unless TESSERA_QGEMM_BYTES=0), as Int8GemmCase and Int8MicroKernelCase take it, so the roof is that step's.
    public static GemmRoof? For(GemmDtype dtype, bool sevenBit = false) =>
        dtype == GemmDtype.Float ? ForFloat(SgemmConfig.Current.Isa) : ForInt8(QgemmConfig.ForWeights(sevenBit).Isa);

    private static GemmRoof? ForFloat(SgemmIsa isa) => isa switch
    {
        SgemmIsa.Avx512 => new("512-bit FMA", s => FmaRoofline.Chains512(s), s_chains * 2 * 16),
        SgemmIsa.Avx2 => new("256-bit FMA", s => FmaRoofline.Chains256(s), s_chains * 2 * 8),
        _ when Fma.IsSupported => new("128-bit FMA", s => FmaRoofline.Chains128(s), s_chains * 2 * 4),
        _ => null,
    };

    private static GemmRoof? ForInt8(QgemmIsa isa) => isa switch
    {
        QgemmIsa.AvxVnni => new("256-bit vpdpbusd", s => VnniRoofline.Chains256(s), s_chains * 8 * 8),
        QgemmIsa.Avx512Bytes => new("512-bit vpmaddubsw + vpmaddwd + vpaddd", s => BytesRoofline.Chains512(s), s_chains * 8 * 16),
        QgemmIsa.Avx2Bytes when Vector256.IsHardwareAccelerated => new("256-bit vpmaddubsw + vpmaddwd + vpaddd", s => BytesRoofline.Chains256(s), s_chains * 8 * 8),
        QgemmIsa.Avx512Bw => new("512-bit vpmaddwd + vpaddd", s => WidenedRoofline.Chains512(s), s_chains * 4 * 16),
        QgemmIsa.Avx2 when Vector256.IsHardwareAccelerated => new("256-bit vpmaddwd + vpaddd", s => WidenedRoofline.Chains256(s), s_chains * 4 * 8),
        _ => null,
    };
}
