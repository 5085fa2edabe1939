using Tessera.Cli.Conformance;
using Tessera.Onnx.Graph;
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
    /// less the random ones it excludes and those with sequence/optional/map graph values (Tessera runs tensors
    /// only). A model that cannot be read counts as required, so that it fails loudly.
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

            OnnxModel? model = null;
            try
            {
                model = ModelReader.Load(Path.Combine(TestPaths.NodeSuite, name, "model.onnx"));
            }
            catch (Exception e) when (e is OnnxFormatException or IOException)
            {
            }

            if (model is null)
            {
                yield return name;
                continue;
            }

            bool tensorsOnly = model.Graph.Inputs.Concat(model.Graph.Outputs).All(v => v.NonTensorKind is null);
            if (tensorsOnly && required.Covers(ModelOperators.Of(model)))
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
