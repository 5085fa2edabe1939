using System.Diagnostics;
using System.Text.RegularExpressions;
using Tessera.Engine;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Cli.Conformance;

/// <summary>
/// Runs cases in the ONNX backend-test layout: a folder holding model.onnx and test_data_set_N/ folders of
/// input_K.pb and output_K.pb, where K follows the graph's input and output order.
/// </summary>
public static partial class BackendTestRunner
{
    /// <summary>Case folders under each root (a root that is itself a case counts), sorted by path.</summary>
    public static List<string> FindCases(IEnumerable<string> roots)
    {
        var cases = new List<string>();
        foreach (string root in roots)
        {
            if (!Directory.Exists(root))
            {
                throw new DirectoryNotFoundException($"'{root}' is not a folder");
            }

            if (File.Exists(Path.Combine(root, "model.onnx")))
            {
                cases.Add(root);
                continue;
            }

            cases.AddRange(Directory.EnumerateFiles(root, "model.onnx", SearchOption.AllDirectories)
                .Select(Path.GetDirectoryName)
                .OfType<string>()
                .Where(d => Directory.EnumerateDirectories(d, "test_data_set_*").Any()));
        }

        return cases.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    public static CaseResult RunCase(string caseDir, double atol, double rtol, int threads = 1)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(caseDir));
        var clock = Stopwatch.StartNew();
        InferenceSession session;
        try
        {
            session = InferenceSession.Load(Path.Combine(caseDir, "model.onnx"), new SessionOptions { Threads = threads });
        }
        catch (InferenceException e) when (e.Message.StartsWith("unsupported operator", StringComparison.Ordinal))
        {
            return new CaseResult(name, CaseOutcome.Skipped, e.Message, clock.Elapsed.TotalSeconds);
        }
        catch (InferenceException e)
        {
            return new CaseResult(name, CaseOutcome.Failed, e.Message, clock.Elapsed.TotalSeconds);
        }

        var dataSets = Directory.EnumerateDirectories(caseDir, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        foreach (string dataSet in dataSets)
        {
            string? failure = RunDataSet(session, dataSet, atol, rtol);
            if (failure is not null)
            {
                return new CaseResult(name, CaseOutcome.Failed, $"{Path.GetFileName(dataSet)}: {failure}", clock.Elapsed.TotalSeconds);
            }
        }

        return new CaseResult(name, CaseOutcome.Passed, string.Empty, clock.Elapsed.TotalSeconds);
    }

    private static string? RunDataSet(InferenceSession session, string dataSet, double atol, double rtol)
    {
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (index, path) in Numbered(dataSet, "input"))
        {
            if (index >= session.Inputs.Count)
            {
                return $"input_{index}.pb has no matching model input";
            }

            inputs[session.Inputs[index].Name] = TensorProtoFormat.ReadFile(path);
        }

        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = session.Run(inputs);
        }
        catch (InferenceException e)
        {
            return e.Message;
        }

        foreach (var (index, path) in Numbered(dataSet, "output"))
        {
            if (index >= session.Outputs.Count)
            {
                return $"output_{index}.pb has no matching model output";
            }

            string outputName = session.Outputs[index].Name;
            var expected = TensorProtoFormat.ReadFile(path);
            string? mismatch = TensorComparer.Compare(outputs[outputName], expected, atol, rtol);
            if (mismatch is not null)
            {
                return $"output '{outputName}' {mismatch}";
            }
        }

        return null;
    }

    private static IEnumerable<(int Index, string Path)> Numbered(string dir, string prefix) =>
        Directory.EnumerateFiles(dir, prefix + "_*.pb")
            .Select(p => (Match: NumberRegex().Match(Path.GetFileName(p)), Path: p))
            .Where(x => x.Match.Success && x.Match.Groups[1].Value == prefix)
            .Select(x => (int.Parse(x.Match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), x.Path))
            .OrderBy(x => x.Item1);

    [GeneratedRegex(@"^(input|output)_(\d+)\.pb$")]
    private static partial Regex NumberRegex();
}
