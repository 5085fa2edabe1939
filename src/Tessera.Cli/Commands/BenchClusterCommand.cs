using System.CommandLine;
using Tessera.Cli.Bench;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>`tessera bench-cluster`: throughput of one batch on local worker processes against one process, in one run.</summary>
internal static class BenchClusterCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the .onnx model", Required = true };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE (.npy or .pb); repeat per input", AllowMultipleArgumentsPerToken = false };
        var shapes = new Option<string[]>("--shape") { Description = "NAME=D1xD2...[:LO..HI]: random data of this shape (as `tessera bench`)", AllowMultipleArgumentsPerToken = false };
        var workers = new Option<int>("--workers") { Description = "local worker processes to start", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads of the single process and of each worker", DefaultValueFactory = _ => 1 };
        var strategy = new Option<string>("--strategy") { Description = "data (the batch split over whole-model replicas) or pipeline (stages on the workers, micro-batches)", DefaultValueFactory = _ => "data" };
        strategy.AcceptOnlyFromAmong("data", "pipeline");
        var stages = new Option<int?>("--stages") { Description = "with pipeline: number of stages (default: one per worker)" };
        var microBatches = new Option<int?>("--micro-batches-per-stage") { Description = "with pipeline: micro-batches a batch is cut into per stage (1: whole batches); default: count and sizes chosen from the stages' measured cost per batch size" };
        var inFlight = new Option<int?>("--in-flight") { Description = "batches in flight on the workers at once (closed loop); default: the deployment's window (Deployment.Window: one batch per stage working at once plus one, so a pipeline is full; one more than the workers for data parallel)" };
        var warmup = new Option<int>("--warmup") { Description = "untimed runs (of every in-flight caller) first", DefaultValueFactory = _ => 2 };
        var seconds = new Option<double>("--seconds") { Description = "timed window of each measurement", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "rounds of single process and distributed runs taking turns; each side reports its best round", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var command = new Command("bench-cluster", "Throughput of a batch on local worker processes (data parallel or pipelined) against one process, bit-identity checked")
        {
            model, inputs, shapes, workers, threads, strategy, stages, microBatches, inFlight, warmup, seconds, rounds, json,
        };
        var wire = new WireDtypeOption();
        command.Options.Add(wire.Option);
        command.SetAction(parse =>
        {
            var settings = new ClusterBenchSettings(
                parse.GetValue(model)!,
                parse.GetValue(inputs) ?? [],
                parse.GetValue(shapes) ?? [],
                AtLeast("--workers", parse.GetValue(workers), 1),
                AtLeast("--threads", parse.GetValue(threads), 1),
                parse.GetValue(strategy)!,
                parse.GetValue(stages) is { } k ? AtLeast("--stages", k, 2) : null,
                parse.GetValue(microBatches) is { } m ? AtLeast("--micro-batches-per-stage", m, 1) : null,
                parse.GetValue(inFlight) is { } f ? AtLeast("--in-flight", f, 1) : null,
                AtLeast("--warmup", parse.GetValue(warmup), 0),
                parse.GetValue(seconds) is var s && s > 0 ? s : throw new CliException("--seconds must be more than 0"),
                AtLeast("--rounds", parse.GetValue(rounds), 1),
                wire.Read(parse));
            bool asJson = parse.GetValue(json);
            var result = ClusterBenchRunner.RunAsync(settings, line => { if (!asJson) Console.Error.WriteLine(line); }).GetAwaiter().GetResult();
            Console.WriteLine(asJson ? result.Json() : result.Text());
            return 0;
        });
        return command;
    }

    private static int AtLeast(string option, int value, int min) =>
        value >= min ? value : throw new CliException($"{option} must be {min} or more");
}
