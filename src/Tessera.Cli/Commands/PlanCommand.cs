using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Onnx.Io;
using Tessera.Partitioning;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Planning;

namespace Tessera.Cli.Commands;

/// <summary>`tessera plan`: choose how to split a model over a cluster, print why, and write the plan folder.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the .onnx model", Required = true };
        var cluster = new Option<string>("--cluster") { Description = "cluster description (JSON, see docs/plan-format.md)", Required = true };
        var shapes = new Option<string[]>("--input-shape") { Description = "NAME=D1xD2...: the shape to plan for (fixes symbolic dimensions); repeat per input", AllowMultipleArgumentsPerToken = false };
        var strategy = new Option<string>("--strategy") { Description = "auto|pipeline|tensor|data|hybrid", DefaultValueFactory = _ => "auto" };
        var stages = new Option<int?>("--stages") { Description = "number of pipeline stages (P)" };
        var degree = new Option<int?>("--degree") { Description = "tensor-parallel degree (T)" };
        var replicas = new Option<int?>("--replicas") { Description = "data-parallel replicas (D)" };
        var objective = new Option<string>("--objective") { Description = "latency|throughput", DefaultValueFactory = _ => "latency" };
        var calibration = new Option<string?>("--calibration") { Description = $"calibration file from `tessera calibrate`, or 'defaults' for the built-in rates (default: {CalibrationProfile.DefaultPath} when it exists, else the built-in rates)" };
        var output = new Option<string>("--out") { Description = "folder to write plan.json and the sub-models to", Required = true };

        var command = new Command("plan", "Plan how to run a model on a cluster (pipeline, tensor and data parallel) and write the plan folder")
        {
            model, cluster, shapes, strategy, stages, degree, replicas, objective, calibration, output,
        };
        command.SetAction(parse =>
        {
            try
            {
                string modelPath = parse.GetValue(model)!;
                var request = new PlanRequest
                {
                    Model = ModelReader.Load(modelPath),
                    InputShapes = ParseShapes(parse.GetValue(shapes) ?? []),
                    Cluster = ClusterDescription.Load(parse.GetValue(cluster)!),
                    Strategy = ParseStrategy(parse.GetValue(strategy)!),
                    Objective = parse.GetValue(objective) switch
                    {
                        "latency" => PlanObjective.Latency,
                        "throughput" => PlanObjective.Throughput,
                        var other => throw new CliException($"--objective must be latency or throughput, not '{other}'"),
                    },
                    Stages = parse.GetValue(stages),
                    Degree = parse.GetValue(degree),
                    Replicas = parse.GetValue(replicas),
                    Calibration = LoadCalibration(parse.GetValue(calibration)),
                };
                var result = Planner.Plan(request);
                var written = PlanMaterializer.Write(result, modelPath, parse.GetValue(output)!);
                Console.Write(PlanReport.Format(result, written));
                Console.WriteLine($"plan written to {Path.Combine(parse.GetValue(output)!, "plan.json")}");
                return 0;
            }
            catch (PartitionException e)
            {
                throw new CliException(e.Message);
            }
        });
        return command;
    }

    private static CalibrationProfile LoadCalibration(string? path)
    {
        if (path == "defaults") return CalibrationProfile.Default;
        if (path is not null) return CalibrationProfile.Load(path);
        return File.Exists(CalibrationProfile.DefaultPath) ? CalibrationProfile.Load(CalibrationProfile.DefaultPath) : CalibrationProfile.Default;
    }

    private static PlanStrategy ParseStrategy(string value) => value switch
    {
        "auto" => PlanStrategy.Auto,
        "pipeline" => PlanStrategy.Pipeline,
        "tensor" => PlanStrategy.Tensor,
        "data" => PlanStrategy.Data,
        "hybrid" => PlanStrategy.Hybrid,
        _ => throw new CliException($"--strategy must be auto, pipeline, tensor, data or hybrid, not '{value}'"),
    };

    private static Dictionary<string, int[]> ParseShapes(IEnumerable<string> specs)
    {
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            string[] parts = eq > 0 ? spec[(eq + 1)..].Split('x') : [];
            var dims = new int[parts.Length];
            bool ok = eq > 0 && parts.Length > 0 && parts.All(p => p.Length > 0);
            for (int i = 0; ok && i < parts.Length; i++)
            {
                ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) && dims[i] > 0;
            }

            if (!ok) throw new CliException($"--input-shape '{spec}' must be NAME=D1xD2... with positive whole numbers (e.g. input=1x3x224x224)");
            if (!shapes.TryAdd(spec[..eq], dims)) throw new CliException($"--input-shape gives '{spec[..eq]}' twice");
        }

        return shapes;
    }
}
