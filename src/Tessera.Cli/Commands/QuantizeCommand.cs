using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Engine.Quantization;
using Tessera.Onnx.Io;

namespace Tessera.Cli.Commands;

/// <summary>`tessera quantize`: parses the options and calls <see cref="ModelQuantizer"/>; reports size and the error against the float model.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the float .onnx model", Required = true };
        var output = new Option<string>("--out") { Description = "the quantized .onnx model to write", Required = true };
        var mode = new Option<string>("--mode") { Description = "dynamic (activations quantized at run time) or static (calibrated)", DefaultValueFactory = _ => "dynamic" };
        var calibration = new Option<string?>("--calibration") { Description = "folder of sample inputs (one subfolder per sample, NAME.npy or input_K.pb): static calibration, and the error report" };
        var evaluation = new Option<string?>("--eval") { Description = "folder of sample inputs for the error report (default: --calibration)" };
        var perChannel = new Option<bool>("--per-channel") { Description = "one weight scale per output channel" };
        var reduceRange = new Option<bool>("--reduce-range") { Description = "7-bit weights in [-64, 64] (ONNX Runtime's reduce_range): a step coarser, faster on CPUs without VNNI (vpmaddubsw cannot saturate on them)" };
        var ops = new Option<string>("--ops") { Description = "operators to quantize, comma-separated (MatMul, Gemm, Conv, Gather)", DefaultValueFactory = _ => "MatMul,Gemm,Conv" };
        var exclude = new Option<string?>("--exclude") { Description = "node names to leave in float, comma-separated" };
        var activationMatMuls = new Option<bool>("--activation-matmuls")
        {
            Description = "dynamic mode: also quantize MatMuls of two activations (attention's Q·Kᵀ and P·V), each input at run time; --activation-matmuls false leaves them in float",
            DefaultValueFactory = _ => true,
        };
        var threads = new Option<int>("--threads") { Description = "threads for calibration and the error report", DefaultValueFactory = _ => 1 };
        var command = new Command("quantize", "Quantize a model's weights (and activations) to 8 bits, as standard ONNX")
        {
            model, output, mode, calibration, evaluation, perChannel, reduceRange, ops, exclude, activationMatMuls, threads,
        };
        command.SetAction(parse =>
        {
            string modeName = parse.GetValue(mode) ?? "dynamic";
            var chosen = modeName switch
            {
                "dynamic" => QuantizationMode.Dynamic,
                "static" => QuantizationMode.Static,
                _ => throw new CliException($"--mode must be dynamic or static, got '{modeName}'"),
            };
            string modelPath = parse.GetValue(model)!;
            string outPath = parse.GetValue(output)!;
            if (Directory.Exists(outPath)) throw new CliException($"--out '{outPath}' is a directory; give a file name");
            string? calibrationDir = parse.GetValue(calibration);
            if (chosen == QuantizationMode.Static && calibrationDir is null) throw new CliException("--mode static needs --calibration DIR");
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new CliException($"--threads must be at least 1, got {threadCount}");

            var source = ModelReader.Load(modelPath);
            var samples = calibrationDir is null ? [] : SampleInputs.Read(calibrationDir, source.Graph, "--calibration");
            var options = new QuantizationOptions
            {
                Mode = chosen,
                PerChannel = parse.GetValue(perChannel),
                ReduceRange = parse.GetValue(reduceRange),
                Operators = List(parse.GetValue(ops)),
                Excluded = List(parse.GetValue(exclude)),
                ActivationMatMuls = parse.GetValue(activationMatMuls),
                Calibration = samples,
            };
            Onnx.Graph.OnnxModel quantized;
            try
            {
                quantized = ModelQuantizer.Quantize(source, options, Console.Error);
            }
            catch (QuantizationException e)
            {
                throw new CliException(e.Message);
            }

            ModelWriter.Save(quantized, outPath);
            long before = new FileInfo(modelPath).Length, after = new FileInfo(outPath).Length;
            Console.WriteLine($"size: {before:N0} → {after:N0} bytes ({(double)after / before:F3} of the float model)");
            string? evalDir = parse.GetValue(evaluation) ?? calibrationDir;
            if (evalDir is not null)
            {
                var evalSamples = evalDir == calibrationDir ? samples : SampleInputs.Read(evalDir, source.Graph, "--eval");
                foreach (var e in QuantizationError.Measure(source, ModelReader.Load(outPath), evalSamples, threadCount))
                {
                    string top1 = double.IsNaN(e.Top1Agreement) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{e.Top1Agreement:P1} of {e.Rows} rows");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"error of {e.Output} on {evalSamples.Count} sample(s): max abs {e.MaxAbs:G4}, cosine {e.Cosine:F6}, top-1 agreement {top1}"));
                }
            }

            return 0;
        });
        return command;
    }

    private static HashSet<string> List(string? value) =>
        new((value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
}
