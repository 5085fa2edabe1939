using System.Diagnostics;
using System.Text.RegularExpressions;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;

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

    /// <summary>
    /// Runs every data set of a case; the first failing data set gives the case's failure, and the later ones
    /// still run so that reports can show each one's differences.
    /// </summary>
    public static CaseResult RunCase(string caseDir, double atol, double rtol, int threads = 1)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(caseDir));
        var clock = Stopwatch.StartNew();
        try
        {
            return RunCase(caseDir, name, clock, atol, rtol, threads);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One broken case (an unreadable data file, a kernel bug) must not end a run over hundreds.
            return new CaseResult(name, CaseOutcome.Failed, $"{e.GetType().Name}: {e.Message}", clock.Elapsed.TotalSeconds);
        }
    }

    private static CaseResult RunCase(string caseDir, string name, Stopwatch clock, double atol, double rtol, int threads)
    {
        OnnxModel model;
        try
        {
            model = ModelReader.Load(Path.Combine(caseDir, "model.onnx"));
        }
        catch (Exception e) when (e is OnnxFormatException or IOException or UnauthorizedAccessException)
        {
            return new CaseResult(name, CaseOutcome.Failed, e.Message, clock.Elapsed.TotalSeconds);
        }

        var operators = ModelOperators.Of(model);
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, new SessionOptions { Threads = threads });
        }
        catch (InferenceException e) when (e.Message.StartsWith("unsupported ", StringComparison.Ordinal))
        {
            return new CaseResult(name, CaseOutcome.Skipped, e.Message, clock.Elapsed.TotalSeconds) { Operators = operators };
        }
        catch (InferenceException e)
        {
            return new CaseResult(name, CaseOutcome.Failed, e.Message, clock.Elapsed.TotalSeconds) { Operators = operators };
        }

        var results = new List<DataSetResult>();
        string? failure = null;
        foreach (string dataSet in Directory.EnumerateDirectories(caseDir, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var result = RunDataSet(session, dataSet, atol, rtol);
            results.Add(result);
            failure ??= result.Failure is null ? null : $"{result.Name}: {result.Failure}";
        }

        return new CaseResult(name, failure is null ? CaseOutcome.Passed : CaseOutcome.Failed, failure ?? string.Empty,
            clock.Elapsed.TotalSeconds) { Operators = operators, DataSets = results };
    }

    private static DataSetResult RunDataSet(InferenceSession session, string dataSet, double atol, double rtol)
    {
        string name = Path.GetFileName(dataSet);
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var summaries = new List<TensorSummary>();
        foreach (var (index, path) in Numbered(dataSet, "input"))
        {
            if (index >= session.Inputs.Count)
            {
                return new DataSetResult(name, summaries, double.NaN, double.NaN, $"input_{index}.pb has no matching model input");
            }

            Tensor tensor;
            try
            {
                tensor = ReferenceData.Read(path, session.Inputs[index].ElementType);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException)
            {
                return new DataSetResult(name, summaries, double.NaN, double.NaN, $"cannot read {Path.GetFileName(path)}: {e.Message}");
            }

            inputs[session.Inputs[index].Name] = tensor;
            summaries.Add(TensorSummary.Of(session.Inputs[index].Name, tensor));
        }

        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = session.Run(inputs);
        }
        catch (InferenceException e)
        {
            return new DataSetResult(name, summaries, double.NaN, double.NaN, e.Message);
        }

        var stats = DiffStats.None;
        string? failure = null;
        foreach (var (index, path) in Numbered(dataSet, "output"))
        {
            if (index >= session.Outputs.Count)
            {
                failure ??= $"output_{index}.pb has no matching model output";
                continue;
            }

            string outputName = session.Outputs[index].Name;
            Tensor expected;
            try
            {
                expected = ReferenceData.Read(path, outputs[outputName].DataType);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException)
            {
                failure ??= $"cannot read {Path.GetFileName(path)}: {e.Message}";
                continue;
            }

            stats = stats.Merge(TensorComparer.Measure(outputs[outputName], expected, atol, rtol));
            string? mismatch = TensorComparer.Compare(outputs[outputName], expected, atol, rtol);
            if (mismatch is not null)
            {
                failure ??= $"output '{outputName}' {mismatch}";
            }
        }

        return new DataSetResult(name, summaries, stats.MaxAbs, stats.MaxRel, failure);
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
