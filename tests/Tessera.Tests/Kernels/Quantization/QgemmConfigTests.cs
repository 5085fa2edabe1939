using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>
/// Which integer micro-kernel a process runs: AVX-VNNI where the machine has it, else the 512-bit widened kernel on
/// AVX-512BW (Zen 4, Skylake-SP to Ice Lake), else AVX2, else Vector128. The tier reruns (DOTNET_EnableAVX512F=0,
/// DOTNET_EnableAVX2=0) check that a lowered process falls back; TESSERA_QGEMM may only pick a lower kernel.
/// </summary>
public sealed class QgemmConfigTests
{
    [Fact]
    public void TheBestKernelTheProcessMayUseIsChosen()
    {
        var expected = AvxVnni.IsSupported ? QgemmIsa.AvxVnni
            : Avx512BW.IsSupported ? QgemmIsa.Avx512Bw
            : Avx2.IsSupported ? QgemmIsa.Avx2
            : QgemmIsa.Portable;
        string? wanted = Environment.GetEnvironmentVariable("TESSERA_QGEMM");
        if (wanted is not null && Enum.TryParse<QgemmIsa>(wanted, ignoreCase: true, out var lower) && lower < expected && QgemmConfig.IsSupported(lower))
        {
            expected = lower;
        }

        Assert.Equal(expected, QgemmConfig.Current.Isa);
    }
}
