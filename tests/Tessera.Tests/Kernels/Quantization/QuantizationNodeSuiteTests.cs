using Tessera.Tests.Conformance;
using Tessera.Tests.Support;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>The ONNX node suite's quantization cases, in this process and in processes limited to lower instruction sets.</summary>
public sealed class QuantizationNodeSuiteTests
{
    private static readonly string[] Prefixes =
    [
        "test_quantizelinear", "test_dequantizelinear", "test_dynamicquantizelinear", "test_matmulinteger", "test_convinteger",
        "test_qlinearmatmul", "test_qlinearconv",
    ];

    public static TheoryData<string> CaseNames() => new(NodeSuite.Cases(Prefixes));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);

    [Fact]
    public void AllSevenOperatorsHaveCases() => Assert.True(CaseNames().Count >= 16, $"only {CaseNames().Count} quantization cases found");

    [Theory]
    [InlineData(SimdTier.Avx2)]
    [InlineData(SimdTier.Vector128Tier)]
    public void PassesOnALowerTier(string tier)
    {
        var cases = NodeSuite.Cases(Prefixes).Select(name => Path.Combine(TestPaths.NodeSuite, name)).ToArray();
        var result = CliProcess.Run(SimdTier.Environment(tier), ["onnx-test", .. cases]);
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains($"onnx-test: {cases.Length} passed, 0 failed", result.Stdout);
    }
}
