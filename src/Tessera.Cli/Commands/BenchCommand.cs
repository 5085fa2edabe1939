using System.CommandLine;
using Tessera.Cli.Bench;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>`tessera bench`: latency, throughput, FLOP rate and memory of repeated inferences on one model.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the .onnx model", Required = true };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE (.npy or .pb); repeat per input", AllowMultipleArgumentsPerToken = false };
        var shapes = new Option<string[]>("--shape")
        {
            Description = "NAME=D1xD2...[:LO..HI]: random data of this shape (fixes symbolic dimensions); integer inputs are drawn "
                + "from LO..HI, 0..99 by default (safe for token ids); floats from [-1, 1). Inputs given neither way get random data of their declared shape",
            AllowMultipleArgumentsPerToken = false,
        };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (0 = one per core)", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup") { Description = "untimed runs first", DefaultValueFactory = _ => 5 };
        var iterations = new Option<int>("--iterations") { Description = "timed runs", DefaultValueFactory = _ => 50 };
        var maxSeconds = new Option<double?>("--max-seconds") { Description = "end the timed runs early once this many seconds have passed (at least one run)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var profile = new Option<bool>("--profile") { Description = "time every node over the timed runs: time per operator type and the slowest nodes" };
        var top = new Option<int>("--top") { Description = "with --profile, how many of the slowest nodes to list", DefaultValueFactory = _ => 15 };

        var command = new Command("bench", "Time repeated inferences of a model: latency, throughput, GFLOP/s, memory and allocations")
        {
            model, inputs, shapes, threads, warmup, iterations, maxSeconds, json, profile, top,
        };
        command.SetAction(parse =>
        {
            var settings = new BenchSettings(
                parse.GetValue(model)!,
                parse.GetValue(inputs) ?? [],
                parse.GetValue(shapes) ?? [],
                AtLeast("--threads", parse.GetValue(threads), 0),
                AtLeast("--warmup", parse.GetValue(warmup), 0),
                AtLeast("--iterations", parse.GetValue(iterations), 1),
                parse.GetValue(maxSeconds) is { } s && !(s > 0) ? throw new CliException("--max-seconds must be more than 0") : parse.GetValue(maxSeconds),
                parse.GetValue(profile) ? AtLeast("--top", parse.GetValue(top), 1) : 0);

            var result = BenchRunner.Run(settings);
            Console.WriteLine(parse.GetValue(json) ? BenchReport.Json(result) : BenchReport.Text(result));
            return 0;
        });
        return command;
    }

    private static int AtLeast(string option, int value, int min) =>
        value >= min ? value : throw new CliException($"{option} must be {min} or more");
}
