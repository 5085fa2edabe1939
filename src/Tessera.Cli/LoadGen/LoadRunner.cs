using System.Diagnostics;
using Tessera.Cli.Bench;
using Tessera.Cli.Common;
using Tessera.Serving.Protocol;
using Tessera.Tensors;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// Closed-loop load: <see cref="LoadSettings.Concurrency"/> workers each send the same pre-serialised request,
/// wait for the whole answer, and send again, for the warmup and then the measured duration. Each worker keeps
/// its own histogram and error counts (no shared state per request but two counters for the progress line).
/// </summary>
internal sealed class LoadRunner
{
    private readonly LoadSettings _settings;
    private long _completed;
    private long _failed;
    private long _measureStart;
    private long _end;

    public LoadRunner(LoadSettings settings) => _settings = settings;

    /// <summary>Requests answered so far, warmup included (read by the progress display).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Fetches the metadata, builds and checks the request, runs the workers, and reports progress while they run.</summary>
    public async Task<LoadResult> RunAsync(Func<LoadRunner, string, Task, Task>? watch, CancellationToken stop)
    {
        using var client = new KServeClient(_settings);
        var metadata = await client.GetMetadataAsync(CancellationToken.None).ConfigureAwait(false);
        var feeds = BenchInputs.Build(metadata.Inputs, _settings.InputSpecs, _settings.ShapeSpecs);
        foreach (var input in metadata.Inputs)
        {
            if (feeds[input.Name].DataType != input.ElementType)
            {
                throw new CliException($"input '{input.Name}': the file holds {DataTypes.Name(feeds[input.Name].DataType)} but the model expects {WireDataTypes.Name(input.ElementType)}");
            }
        }

        var ordered = metadata.Inputs.Select(i => new KeyValuePair<string, Tensor>(i.Name, feeds[i.Name])).ToList();
        var body = RequestBody.Create(ordered, metadata.Outputs, _settings.Binary, _settings.Priority);
        using var grpc = _settings.GrpcTarget is { } target ? new GrpcInferClient(_settings, target, ordered) : null;
        if (grpc is null)
        {
            await client.ProbeAsync(body, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await grpc.ProbeAsync().ConfigureAwait(false);
        }

        var calls = new GrpcWireCall[grpc is null ? 0 : _settings.Concurrency];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = grpc!.CreateCall(); // a connection per worker, as REST's HttpClient has one per request in flight
            await calls[i].ConnectAsync(stop).ConfigureAwait(false); // opened before the clock starts, as the probe opened REST's first
        }

        long start = Stopwatch.GetTimestamp();
        _measureStart = start + Ticks(_settings.Warmup);
        _end = _measureStart + Ticks(_settings.Duration);
        var workers = new Worker[_settings.Concurrency];
        var tasks = new Task[workers.Length];
        for (int i = 0; i < workers.Length; i++)
        {
            Func<CancellationToken, Task<string?>> send;
            if (grpc is null)
            {
                var drain = new byte[16 * 1024];
                send = ct => client.InferAsync(body, drain, ct);
            }
            else
            {
                send = calls[i].SendAsync;
            }

            var worker = workers[i] = new Worker(this, send);
            tasks[i] = Task.Run(() => worker.RunAsync(stop));
        }

        var all = Task.WhenAll(tasks);
        int requestBytes = grpc?.RequestBytes ?? body.Bytes.Length;
        var describe = $"{metadata.Name}: {_settings.Concurrency} workers, {(grpc is not null ? "gRPC" : _settings.Binary ? "binary" : "JSON")} bodies of {requestBytes:N0} bytes";
        if (watch is not null)
        {
            await watch(this, describe, all).ConfigureAwait(false);
        }

        await all.ConfigureAwait(false);
        long finished = workers.Max(w => w.LastFinish);

        var latency = new LatencyHistogram();
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long ok = 0;
        foreach (var w in workers)
        {
            latency.Merge(w.Latency);
            ok += w.Ok;
            foreach (var (key, count) in w.Errors) errors[key] = errors.GetValueOrDefault(key) + count;
        }

        double measured = Math.Max(0, Stopwatch.GetElapsedTime(_measureStart, Math.Max(finished, _measureStart)).TotalSeconds);
        return new LoadResult(_settings, metadata.Name, requestBytes, ok, errors, latency, measured, stop.IsCancellationRequested);
    }

    /// <summary>Seconds since the start of the run, and the phase ("warmup" or "run") with its own elapsed and total seconds.</summary>
    public (string Phase, double Elapsed, double Total) Clock()
    {
        long now = Stopwatch.GetTimestamp();
        return now < _measureStart
            ? ("warmup", _settings.Warmup.TotalSeconds - Stopwatch.GetElapsedTime(now, _measureStart).TotalSeconds, _settings.Warmup.TotalSeconds)
            : ("run", Math.Min(Stopwatch.GetElapsedTime(_measureStart, now).TotalSeconds, _settings.Duration.TotalSeconds), _settings.Duration.TotalSeconds);
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private sealed class Worker(LoadRunner runner, Func<CancellationToken, Task<string?>> send)
    {
        public LatencyHistogram Latency { get; } = new();

        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

        public long Ok { get; private set; }

        public long LastFinish { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                if (start >= runner._end)
                {
                    break;
                }

                string? error;
                try
                {
                    error = await send(stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break; // interrupted: the request in flight is neither an answer nor an error
                }

                long finish = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref runner._completed);
                if (error is not null)
                {
                    Interlocked.Increment(ref runner._failed);
                }

                if (start < runner._measureStart)
                {
                    continue;
                }

                LastFinish = finish;
                if (error is null)
                {
                    Ok++;
                    Latency.RecordTicks(finish - start);
                }
                else
                {
                    Errors[error] = Errors.GetValueOrDefault(error) + 1;
                }
            }
        }
    }
}
