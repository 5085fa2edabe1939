using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using Tessera.Cli.Bench;
using Tessera.Cli.Commands;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>
/// `tessera roofline`: each roof present and positive, best window and per CPU second, exactly where the process's
/// ISA has its instruction (on every SIMD tier this machine can lower a child to), in the text and the JSON; and the
/// 7-bit byte step's loop computing the kernels' step, against a scalar reference.
/// </summary>
public sealed class RooflineCommandTests
{
    public static TheoryData<string> Tiers() => SimdTier.ThisAndLower();

    [Theory]
    [MemberData(nameof(Tiers))]
    public void JsonHasEachRoofWhereTheTierHasItsInstruction(string tier)
    {
        var r = CliProcess.Run(SimdTier.Environment(tier), "roofline", "--seconds", "0.02", "--rounds", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        string[] fma = tier switch { SimdTier.Avx512 => ["128", "256", "512"], SimdTier.Avx2 => ["128", "256"], _ => [] };
        string[] integer = tier switch { SimdTier.Avx512 => ["256", "512"], SimdTier.Avx2 => ["256"], _ => [] };
        foreach (string suffix in new[] { "per_thread", "per_cpu_second" })
        {
            AssertWidths(root, "fma_gflops_" + suffix, fma);
            AssertWidths(root, "vpmaddwd_gops_" + suffix, integer);
            AssertWidths(root, "vpmaddubsw_gops_" + suffix, integer);
            var vnni = root.GetProperty("vpdpbusd_256_gops_" + suffix);
            if (tier != SimdTier.Vector128Tier && AvxVnni.IsSupported)
            {
                Assert.True(vnni.GetDouble() > 0, suffix);
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, vnni.ValueKind);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void TextNamesTheByteStepAndTheRatePerCpuSecond(string tier)
    {
        var r = CliProcess.Run(SimdTier.Environment(tier), "roofline", "--seconds", "0.02", "--rounds", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        const string bytes = "int8 peak of the 7-bit byte step, 1 thread (weights within [-64, 63], vpmaddubsw + vpmaddwd by ones + vpaddd): ";
        switch (tier)
        {
            case SimdTier.Avx512:
                Assert.Matches(@"fma peak, 1 thread: 512-bit [0-9.]+ GFLOP/s \([0-9.]+ per CPU second\), 256-bit ", r.Stdout);
                Assert.Matches(System.Text.RegularExpressions.Regex.Escape(bytes) + @"512-bit [0-9.]+ GOP/s \([0-9.]+ per CPU second\), 256-bit [0-9.]+ GOP/s \([0-9.]+ per CPU second\)", r.Stdout);
                break;
            case SimdTier.Avx2:
                Assert.Matches(System.Text.RegularExpressions.Regex.Escape(bytes) + @"256-bit [0-9.]+ GOP/s \([0-9.]+ per CPU second\)\n", r.Stdout.ReplaceLineEndings("\n"));
                Assert.DoesNotContain("512-bit", r.Stdout);
                break;
            default:
                Assert.Contains("fma peak, 1 thread: no hardware FMA in this process", r.Stdout);
                Assert.DoesNotContain("7-bit byte step", r.Stdout);
                Assert.DoesNotContain("vpmaddwd + vpaddd", r.Stdout);
                break;
        }
    }

    [Fact]
    public void JsonFieldsEachCarryTheirOwnRoof()
    {
        // Distinct rates per roof and per kind, so a field filled from the wrong roof or the wrong figure shows.
        static SortedDictionary<int, RoofRate> Rates(double base_) => new() { [256] = new(base_ + 1, base_ + 2), [512] = new(base_ + 3, base_ + 4) };
        string text = RooflineCommand.Json(Rates(100), new RoofRate(200.04, 300.06), Rates(400), Rates(500));
        var root = JsonDocument.Parse(text).RootElement;
        void Check(string field, int width, double expected) => Assert.Equal(expected, root.GetProperty(field).GetProperty(width.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetDouble());
        Check("fma_gflops_per_thread", 256, 101); Check("fma_gflops_per_thread", 512, 103);
        Check("fma_gflops_per_cpu_second", 256, 102); Check("fma_gflops_per_cpu_second", 512, 104);
        Check("vpmaddwd_gops_per_thread", 256, 401); Check("vpmaddwd_gops_per_cpu_second", 512, 404);
        Check("vpmaddubsw_gops_per_thread", 256, 501); Check("vpmaddubsw_gops_per_thread", 512, 503);
        Check("vpmaddubsw_gops_per_cpu_second", 256, 502); Check("vpmaddubsw_gops_per_cpu_second", 512, 504);
        Assert.Equal(200.0, root.GetProperty("vpdpbusd_256_gops_per_thread").GetDouble());
        Assert.Equal(300.1, root.GetProperty("vpdpbusd_256_gops_per_cpu_second").GetDouble());
    }

    [Fact]
    public void ByteStepLoopsComputeTheKernelsStep()
    {
        // Chain k starts at k + 1 (its low byte, the rest 0): vpmaddubsw by -2 gives -2(k + 1) in the low pair,
        // vpmaddwd by ones keeps it, vpaddd leaves -(k + 1); lane 0 of the twelve chains' sum is -78.
        if (Avx2.IsSupported) Assert.Equal(-78, BytesRoofline.Chains256(1));
        if (Avx512BW.IsSupported) Assert.Equal(-78, BytesRoofline.Chains512(1));

        // A second step: -(k + 1) is 0xFF.. bytes, (256 - (k + 1)) + 255 in the low pair and 2 · 255 in the high one,
        // each times -2, summed by vpmaddwd, plus -(k + 1).
        int expected = 0;
        for (int k = 1; k <= 12; k++) expected += -k + (-2 * ((256 - k) + 255)) + (-2 * (255 + 255));
        if (Avx2.IsSupported) Assert.Equal(expected, BytesRoofline.Chains256(2));
        if (Avx512BW.IsSupported) Assert.Equal(expected, BytesRoofline.Chains512(2));
    }

    private static void AssertWidths(JsonElement root, string field, string[] widths)
    {
        var rates = root.GetProperty(field).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(widths, rates.Keys.Order().ToArray());
        Assert.All(rates.Values, v => Assert.True(v > 0, field));
    }
}
