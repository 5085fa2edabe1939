using Tessera.Tests.Support;

namespace Tessera.Tests.Tiers;

/// <summary>
/// Every kernel family and dispatch branch gives the same answer on every SIMD tier this machine can lower to:
/// one case per branch is run here on the native tier, written in the ONNX backend-test layout with this tier's
/// outputs as the expected ones, and `tessera onnx-test` runs the cases in child processes lowered to AVX2 and to
/// Vector128 (at 1 and 2 threads, whose splits take other branches). A tier that disagrees beyond the tolerance
/// (tiers sum in other orders, and Vector128 has no FMA) fails with the case's name.
/// </summary>
public sealed class TierAgreementTests
{
    // The engine's usual tolerances: tight for single kernels on inputs in [-1, 1], ONNX Runtime parity for models.
    private const string KernelTolerance = "1e-4";
    private const string ModelAtol = "1e-4";
    private const string ModelRtol = "1e-3";

    public static TheoryData<string, int> Tiers()
    {
        var data = new TheoryData<string, int>();
        foreach (string tier in SimdTier.Lower)
        {
            data.Add(tier, 1);
            data.Add(tier, 2);
        }

        if (data.Count == 0)
        {
            // A machine without AVX2 has no lower tier; the theory still needs a row, which checks the native one.
            data.Add(SimdTier.Current, 1);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void KernelsAgreeWithTheNativeTier(string tier, int threads)
    {
        string cases = TierCases.Kernels.Value;
        var result = CliProcess.Run(SimdTier.Environment(tier), "onnx-test", cases, "--atol", KernelTolerance, "--rtol", KernelTolerance,
            "--threads", threads.ToString());
        AssertAllPassed(result, tier, threads, TierCases.KernelCount);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void ModelsAgreeWithTheNativeTier(string tier, int threads)
    {
        string cases = TierCases.Models.Value;
        var result = CliProcess.Run(SimdTier.Environment(tier), "onnx-test", cases, "--atol", ModelAtol, "--rtol", ModelRtol,
            "--threads", threads.ToString());
        AssertAllPassed(result, tier, threads, TierCases.ModelCount);
    }

    private static void AssertAllPassed(CliProcess.Result result, string tier, int threads, int count)
    {
        var failures = result.Stdout.Split('\n').Where(l => !l.StartsWith("PASS", StringComparison.Ordinal) && l.Length > 0
            && !l.StartsWith("onnx-test:", StringComparison.Ordinal));
        Assert.True(result.ExitCode == 0, $"{tier}, {threads} thread(s) disagrees with {SimdTier.Current}:\n{string.Join('\n', failures)}\n{result.Stderr}");
        Assert.Contains($"onnx-test: {count} passed, 0 failed, 0 skipped", result.Stdout);
    }
}
