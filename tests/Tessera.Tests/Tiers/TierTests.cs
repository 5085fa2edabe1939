using Tessera.Tests.Support;

namespace Tessera.Tests.Tiers;

/// <summary>
/// test.sh reruns the kernel and model-parity tests with the SIMD tier lowered (TESSERA_EXPECT_TIER names the tier it
/// asked for). If the runtime stopped honouring the switch, those reruns would silently repeat the native tier: this
/// test fails them instead.
/// </summary>
public sealed class TierTests
{
    [Fact]
    public void TheProcessRunsOnTheTierTheRunAskedFor()
    {
        string? expected = Environment.GetEnvironmentVariable("TESSERA_EXPECT_TIER");
        Assert.True(expected is null or SimdTier.Avx512 or SimdTier.Avx2 or SimdTier.Vector128Tier, $"unknown TESSERA_EXPECT_TIER {expected}");
        Assert.Equal(expected ?? SimdTier.Current, SimdTier.Current);
    }
}
