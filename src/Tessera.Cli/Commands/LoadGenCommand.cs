using System.CommandLine;
using Tessera.Cli.Common;
using Tessera.Cli.LoadGen;

namespace Tessera.Cli.Commands;

/// <summary>`tessera loadgen`: closed-loop load on a KServe v2 inference server, then throughput and a latency histogram.</summary>
internal static class LoadGenCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "the server, e.g. http://127.0.0.1:8000", Required = true };
        var model = new Option<string>("--model") { Description = "the model name on the server", Required = true };
        var version = new Option<string?>("--model-version") { Description = "a model version (default: the server's choice)" };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE (.npy or .pb) to send for an input; repeat per input", AllowMultipleArgumentsPerToken = false };
        var shapes = new Option<string[]>("--shape")
        {
            Description = "NAME=D1xD2...[:LO..HI]: random data of this shape (needed for -1 dimensions); inputs given neither way get random data of the shape in the model's metadata",
            AllowMultipleArgumentsPerToken = false,
        };
        var binary = new Option<bool>("--binary") { Description = "send tensors with the binary-data extension instead of JSON" };
        var concurrency = new Option<int>("--concurrency") { Description = "closed-loop workers, each with one request in flight", DefaultValueFactory = _ => 1 };
        var duration = new Option<double>("--duration") { Description = "seconds to measure", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "seconds of unmeasured load first", DefaultValueFactory = _ => 1 };
        var priority = new Option<int?>("--priority") { Description = "sent as the request parameter \"priority\"" };
        var timeout = new Option<double>("--timeout") { Description = "seconds before one request counts as a timeout error", DefaultValueFactory = _ => 30 };
        var grpc = new Option<string?>("--grpc") { Description = "HOST:PORT of the server's gRPC port: send the requests over gRPC (raw contents; --url still serves the metadata)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };

        var command = new Command("loadgen", "Load a KServe v2 server with concurrent requests; report throughput, errors and latency percentiles")
        {
            url, model, version, inputs, shapes, binary, concurrency, duration, warmup, priority, timeout, grpc, json,
        };
        command.SetAction(parse =>
        {
            var settings = new LoadSettings(
                ParseUrl(parse.GetValue(url)!),
                parse.GetValue(model) is { Length: > 0 } m ? m : throw new CliException("--model must not be empty"),
                parse.GetValue(version),
                parse.GetValue(inputs) ?? [],
                parse.GetValue(shapes) ?? [],
                parse.GetValue(binary),
                parse.GetValue(concurrency) is var c and >= 1 and <= 10_000 ? c : throw new CliException("--concurrency must be 1 to 10000"),
                Seconds("--duration", parse.GetValue(duration), allowZero: false),
                Seconds("--warmup", parse.GetValue(warmup), allowZero: true),
                parse.GetValue(priority),
                Seconds("--timeout", parse.GetValue(timeout), allowZero: false),
                parse.GetValue(grpc) is { } target ? GrpcTarget(target) : null);

            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                // The first Ctrl+C ends the run early and still reports; a second one kills the process.
                e.Cancel = !stop.IsCancellationRequested;
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var result = new LoadRunner(settings).RunAsync(LoadProgress.WatchAsync, stop.Token).GetAwaiter().GetResult();
                Console.WriteLine(parse.GetValue(json) ? LoadReport.Json(result) : LoadReport.Text(result));
                if (result.Ok == 0 && result.Requests > 0)
                {
                    throw new CliException($"every request failed ({string.Join(", ", result.Errors.Select(e => $"{e.Key}: {e.Value}"))})", 1);
                }

                return 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    private static string GrpcTarget(string text)
    {
        try
        {
            return Tessera.Serving.Http.ListenAddress.Parse(text).ToString();
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--grpc {e.Message}");
        }
    }

    private static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"--url '{text}' must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:8000");
        }

        // Relative paths (v2/...) resolve under the URL's own path, so a server mounted at /prefix works.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }

    private static TimeSpan Seconds(string option, double value, bool allowZero) =>
        double.IsFinite(value) && (value > 0 || (allowZero && value == 0)) && value <= 86_400
            ? TimeSpan.FromSeconds(value)
            : throw new CliException($"{option} must be {(allowZero ? "0" : "more than 0")} to 86400 seconds");
}
