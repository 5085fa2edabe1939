using Tessera.Cli.Conformance;
using Tessera.Onnx.Io;

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

    /// <summary>
    /// The cases issue 2 requires to pass: those whose operators are all in conformance/required-operators.txt,
    /// less the random ones it excludes. A model that cannot be read counts as required, so that it fails loudly.
    /// </summary>
    public static IEnumerable<string> RequiredCases()
    {
        var required = RequiredOperators.Default;
        foreach (string name in Cases(string.Empty))
        {
            if (required.ExcludedCases.Contains(name))
            {
                continue;
            }

            List<string> operators;
            try
            {
                operators = ModelOperators.Of(ModelReader.Load(Path.Combine(TestPaths.NodeSuite, name, "model.onnx")));
            }
            catch (Exception e) when (e is OnnxFormatException or IOException)
            {
                operators = [];
            }

            if (operators.Count == 0 || required.Covers(operators))
            {
                yield return name;
            }
        }
    }

    public static void AssertPasses(string caseName, double atol = 1e-7, double rtol = 1e-3)
    {
        var result = BackendTestRunner.RunCase(Path.Combine(TestPaths.NodeSuite, caseName), atol, rtol);
        Assert.True(result.Outcome == CaseOutcome.Passed, result.Format());
    }
}
