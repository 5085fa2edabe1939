using System.CommandLine;
using System.Globalization;
using System.Text;
using Tessera.Cli.Common;
using Tessera.Onnx.Averaging;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;

namespace Tessera.Cli.Commands;

/// <summary>`tessera average`: one model whose parameters are the weighted mean of several models of one architecture.</summary>
internal static class AverageCommand
{
    /// <summary>Exit code when the models do not share one architecture (bad arguments exit with 2).</summary>
    public const int MismatchExitCode = 3;

    private const int MaxListedDifferences = 20;

    // Protobuf cannot hold a message over 2 GiB; leave room for the graph itself.
    private const long InlineLimitBytes = 1536L << 20;

    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "an input .onnx model; give two or more", Required = true, AllowMultipleArgumentsPerToken = false };
        var weights = new Option<string?>("--weights") { Description = "comma-separated weights, one per model, e.g. 0.3,0.7 (default: equal); normalised to sum 1" };
        var output = new Option<string>("--out") { Description = "the averaged .onnx model to write", Required = true };
        var external = new Option<string?>("--external-data")
        {
            Description = "write the parameters to this file next to --out (default: only when the first model keeps its parameters outside the .onnx file, or they exceed 1.5 GiB, as OUT.data)",
        };
        var command = new Command("average", "Average the parameters of models with the same architecture (model soup / federated averaging)")
        {
            models, weights, output, external,
        };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(models) ?? [];
            if (paths.Length < 2)
            {
                throw new CliException($"give at least two models with --model (got {paths.Length})");
            }

            double[]? w = ParseWeights(parse.GetValue(weights), paths.Length);
            string outPath = parse.GetValue(output) ?? throw new CliException("--out is required");
            if (Directory.Exists(outPath))
            {
                throw new CliException($"--out '{outPath}' is a directory; give a file name");
            }

            Run(paths, w, outPath, parse.GetValue(external));
            return 0;
        });
        return command;
    }

    private static void Run(string[] paths, double[]? weights, string outPath, string? externalData)
    {
        var loaded = paths.Select(ModelReader.Load).ToArray();
        string[] names = Labels(paths);
        AveragingResult result;
        try
        {
            result = ModelAverager.Average(loaded, weights, names);
        }
        catch (ModelMismatchException e)
        {
            throw new CliException(MismatchMessage(e.Differences, names), MismatchExitCode);
        }

        var model = result.Model;
        model.Metadata["tessera.average"] = string.Join(",", names.Select((n, i) => $"{n}:{Format(result.Weights[i])}"));
        externalData ??= KeepsParametersOutside(paths[0], loaded[0]) || model.Graph.ParameterBytes > InlineLimitBytes
            ? Path.GetFileName(outPath) + ".data"
            : null;
        if (externalData is not null && (Path.IsPathRooted(externalData) || externalData.Contains('/') || externalData.Contains('\\')))
        {
            throw new CliException($"--external-data '{externalData}' must be a file name (it is written next to --out)");
        }

        ModelWriter.Save(model, outPath, externalData);

        bool normalised = weights is not null && Math.Abs(weights.Sum() - 1) > 1e-12;
        Console.WriteLine($"averaged {paths.Length} models into {outPath}{(externalData is null ? "" : $" (parameters in {externalData})")}");
        Console.WriteLine($"  weights      {string.Join(", ", names.Select((n, i) => $"{n} {Format(result.Weights[i])}"))}" +
            (weights is null ? " (equal)" : normalised ? " (normalised to sum 1)" : ""));
        Console.WriteLine($"  averaged     {result.AveragedTensors} floating point tensors ({result.AveragedValues.ToString("N0", CultureInfo.InvariantCulture)} values)");
        Console.WriteLine($"  unchanged    {result.IdenticalTensors} floating point tensors identical in every model, " +
            $"{result.CheckedEqualTensors} integer/bool/string tensors checked equal");
    }

    /// <summary>Null for equal weights (so the result says "equal").</summary>
    private static double[]? ParseWeights(string? text, int count)
    {
        if (text is null)
        {
            return null;
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var weights = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out weights[i]))
            {
                throw new CliException($"--weights: '{parts[i]}' is not a number");
            }
        }

        try
        {
            ModelAverager.NormaliseWeights(weights, count);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--weights: {e.Message}");
        }

        return weights;
    }

    /// <summary>File names, or the paths as given when two models share a file name.</summary>
    private static string[] Labels(string[] paths)
    {
        string[] names = [.. paths.Select(Path.GetFileName).Select(n => n ?? "")];
        return names.Distinct(StringComparer.Ordinal).Count() == names.Length ? names : paths;
    }

    private static bool KeepsParametersOutside(string path, OnnxModel model) => new FileInfo(path).Length < model.Graph.ParameterBytes;

    private static string MismatchMessage(IReadOnlyList<string> differences, string[] names)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"the models do not share one architecture ({differences.Count} difference{(differences.Count == 1 ? "" : "s")}, compared with {names[0]}):");
        foreach (string line in differences.Take(MaxListedDifferences))
        {
            sb.Append("\n  ").Append(line);
        }

        if (differences.Count > MaxListedDifferences)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n  ... and {differences.Count - MaxListedDifferences} more");
        }

        return sb.ToString();
    }

    private static string Format(double w) => w.ToString("0.####", CultureInfo.InvariantCulture);
}
