using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Tessera.Cli.Common;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Worker;

namespace Tessera.Cli.Commands;

/// <summary>`tessera worker`: a long-running process that receives sub-models and runs pipeline stages for coordinators.</summary>
internal static class WorkerCommand
{
    public const string TokenVariable = "TESSERA_CLUSTER_TOKEN";

    /// <summary>The worker's scheduling policy when --scheduling is not given: batch (the default) or normal.</summary>
    public const string SchedulingVariable = "TESSERA_WORKER_SCHED";

    /// <summary>The time slice, in milliseconds, a batch-scheduled worker's threads ask the kernel for (0: the kernel's own).</summary>
    public const string SliceVariable = "TESSERA_WORKER_SLICE_MS";

    // A stage run takes milliseconds of CPU (GPT b8 s128: 5-6 ms a stage of three); cut into the kernel's default
    // slices (1.4 ms here) on cores shared with sibling stages and other work, it stretched to 5x its CPU time while the
    // stages after it waited (docs/architecture.md, "Cluster").
    private const double DefaultSliceMilliseconds = 20;

    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "HOST:PORT to listen on (port 0 picks a free port, printed on stdout)", Required = true };
        var tokenFile = new Option<string?>("--token-file") { Description = $"file holding the shared cluster token (else ${TokenVariable})" };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "folder where shipped models are cached by SHA-256 (default: a tessera-worker folder in the temp folder)" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads per loaded model (0 = one per core)", DefaultValueFactory = _ => 1 };
        var budget = new Option<string?>("--memory-budget") { Description = "bytes of model weights to hold loaded at most (suffixes K, M, G = powers of 1024); default: no limit" };
        var name = new Option<string?>("--name") { Description = "name shown to coordinators and in logs (default: the listen address)" };
        var collectiveTimeout = new Option<double>("--collective-timeout") { Description = "seconds a tensor-parallel rank waits for another rank's block before the request fails", DefaultValueFactory = _ => 30 };
        var join = new Option<string?>("--join") { Description = "HOST:PORT of a running coordinator's join listener to announce this worker to" };
        var otlp = new Option<string?>("--otlp-endpoint") { Description = $"export the stages' spans over OTLP to this URL, e.g. http://127.0.0.1:4317 (else ${TelemetryOptions.EndpointVariable}; neither: off)" };
        var scheduling = new Option<string?>("--scheduling") { Description = $"the worker's threads' Linux scheduling policy: batch (a thread that wakes does not preempt a running one) or normal (else ${SchedulingVariable}; default batch)" };
        var slice = new Option<string?>("--slice-ms") { Description = $"with batch scheduling: the time slice, in milliseconds, the worker's threads ask the kernel for (Linux 6.12 and later), 0 for the kernel's own (else ${SliceVariable}; default {DefaultSliceMilliseconds})" };
        var untilStdinCloses = new Option<bool>("--until-stdin-closes") { Description = "stop when standard input closes (a parent that starts the worker holds it open, so the worker ends with the parent, even a killed one)" };

        var tls = new TlsOptions();
        var command = new Command("worker", "Serve as a cluster worker: receive sub-models, run them, pass tensors to the next stage")
        {
            listen, tokenFile, cacheDir, threads, budget, name, collectiveTimeout, join, untilStdinCloses, otlp, scheduling, slice,
        };
        foreach (var option in tls.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 0)
            {
                throw new CliException("--threads must be 0 or more");
            }

            double timeout = parse.GetValue(collectiveTimeout);
            if (!(timeout > 0 && timeout <= 86400))
            {
                throw new CliException("--collective-timeout must be more than 0 and at most 86400 seconds");
            }

            var options = new WorkerOptions
            {
                Listen = parse.GetValue(listen)!,
                Token = ReadToken(parse.GetValue(tokenFile)),
                CacheDirectory = parse.GetValue(cacheDir) ?? Path.Combine(Path.GetTempPath(), "tessera-worker-cache"),
                Threads = threadCount == 0 ? Environment.ProcessorCount : threadCount,
                MemoryBudget = parse.GetValue(budget) is { } b ? ParseBytes("--memory-budget", b) : 0,
                Name = parse.GetValue(name),
                CollectiveTimeout = TimeSpan.FromSeconds(timeout),
                Tls = tls.Read(parse),
            };
            bool batch = (parse.GetValue(scheduling) ?? Environment.GetEnvironmentVariable(SchedulingVariable) ?? "batch").Trim().ToLowerInvariant() switch
            {
                "batch" => true,
                "normal" => false,
                var other => throw new CliException($"--scheduling must be batch or normal, not '{other}'"),
            };
            long sliceNanoseconds = SliceNanoseconds(parse.GetValue(slice));
            // The whole process, before its server starts the threads that compute (they inherit it): a stage run's
            // thread never preempts a sibling worker's run when its RUN arrives; the tick shares the cores, in slices
            // long enough for a stage run to end in one.
            if (batch) Cluster.Native.Libc.SetBatchSchedulingForProcess(sliceNanoseconds);
            var telemetry = ServeCommand.Telemetry(parse.GetValue(otlp), "tessera-worker", options.Name ?? options.Listen);
            using var export = TelemetryExport.Start(telemetry, [ClusterTelemetry.SourceName], []);
            return Serve(options, parse.GetValue(join), parse.GetValue(untilStdinCloses));
        });
        return command;
    }

    /// <summary>The slice <paramref name="given"/> (--slice-ms), else <see cref="SliceVariable"/>'s, else the default, in nanoseconds.</summary>
    private static long SliceNanoseconds(string? given)
    {
        string? value = (given ?? Environment.GetEnvironmentVariable(SliceVariable))?.Trim();
        if (string.IsNullOrEmpty(value)) return (long)(DefaultSliceMilliseconds * 1e6);
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) && ms is >= 0 and <= 100
            ? (long)(ms * 1e6)
            : throw new CliException($"--slice-ms (or {SliceVariable}) must be a number of milliseconds from 0 to 100, not '{value}'");
    }

    private static int Serve(WorkerOptions options, string? join, bool untilStdinCloses)
    {
        // Heartbeat answers run on pool threads; on a 2-core host the pool starts with 2, and a model load or a
        // blocked socket write can hold both long enough (pool growth is ~2 per second) to be reported down.
        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, 16), Math.Max(minIo, 16));
        using var loggers = CreateLoggers();
        var server = new WorkerServer(options, loggers);
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        server.Start();
        if (untilStdinCloses)
        {
            StopWhenStdinCloses(stop);
        }

        // Scripts and tests read the bound address (port 0 = any free port) from this line.
        Console.Out.WriteLine($"tessera worker listening on {server.Address}");
        Console.Out.Flush();
        if (join is not null)
        {
            server.JoinCoordinator(join);
        }

        try
        {
            server.Completion.Wait(stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        return 0;
    }

    /// <summary>
    /// The kernel closes a pipe's writing end when its only holder exits, however it exits (SIGKILL too), so reading
    /// to its end is how a worker learns that the parent which started it is gone. A thread of its own: the read blocks.
    /// </summary>
    private static void StopWhenStdinCloses(CancellationTokenSource stop)
    {
        var watcher = new Thread(() =>
        {
            using var input = Console.OpenStandardInput();
            byte[] buffer = new byte[256];
            try
            {
                while (input.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
            }

            stop.Cancel();
        })
        { IsBackground = true, Name = "stdin watcher" };
        watcher.Start();
    }

    /// <summary>Logs go to stderr, one line per event, so stdout stays machine-readable.</summary>
    public static ILoggerFactory CreateLoggers() => LoggerFactory.Create(builder =>
    {
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.SetMinimumLevel(Environment.GetEnvironmentVariable("TESSERA_LOG_LEVEL") is { } level && Enum.TryParse<LogLevel>(level, true, out var l) ? l : LogLevel.Information);
    });

    public static ClusterToken ReadToken(string? tokenFile)
    {
        try
        {
            if (tokenFile is not null)
            {
                return ClusterToken.FromFile(tokenFile);
            }

            return Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } secret
                ? new ClusterToken(secret)
                : throw new CliException($"a cluster token is required: --token-file FILE or ${TokenVariable}");
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    public static long ParseBytes(string option, string text)
    {
        text = text.Trim();
        long unit = 1;
        char last = text.Length > 0 ? char.ToUpperInvariant(text[^1]) : ' ';
        if (last is 'K' or 'M' or 'G')
        {
            unit = last switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            text = text[..^1];
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0 || value > long.MaxValue / unit)
        {
            throw new CliException($"{option} must be a positive number of bytes (optionally with K, M or G), not '{text}'");
        }

        return value * unit;
    }
}
