using Tessera.Cli.Conformance;

namespace Tessera.Tests.Conformance;

/// <summary>Runs named cases of the generated ONNX backend node suite; kernel tests use it as their independent reference.</summary>
internal static class NodeSuite
{
    /// <summary>Every case folder whose name starts with one of the prefixes (e.g. "test_conv").</summary>
    public static IEnumerable<string> Cases(params string[] prefixes)
    {
        string root = TestPaths.Require(TestPaths.NodeSuite);
        return Directory.EnumerateDirectories(root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);
    }

    public static void AssertPasses(string caseName, double atol = 1e-7, double rtol = 1e-3)
    {
        var result = BackendTestRunner.RunCase(Path.Combine(TestPaths.NodeSuite, caseName), atol, rtol);
        Assert.True(result.Outcome == CaseOutcome.Passed, result.Format());
    }
}
