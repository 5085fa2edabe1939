using System.Diagnostics;
using Tessera.Serving.Backends;
using Tessera.Serving.Metrics;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Repository;

/// <summary>
/// One loaded model version: its backend, its scheduler (queue and batching) and its metrics, and the requests
/// using it (see <see cref="TryEnter"/>), so that a version no longer served finishes them before it stops.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly object _gate = new();
    private int _users;
    private bool _retired;

    public ServedModel(string name, string version, IInferenceBackend backend, ModelConfig config, ModelScheduler scheduler, ModelMetrics metrics)
    {
        Name = name;
        Version = version;
        Backend = backend;
        Config = config;
        Scheduler = scheduler;
        Metrics = metrics;
    }

    public string Name { get; }

    public string Version { get; }

    public IInferenceBackend Backend { get; }

    public ModelSignature Signature => Backend.Signature;

    public ModelConfig Config { get; }

    public ModelScheduler Scheduler { get; }

    public ModelMetrics Metrics { get; }

    /// <summary>Why this version cannot be served now (readiness is false, REST answers 503 with it); null while it can.</summary>
    public string? Unready => Backend.Unready is { } why ? $"model '{Name}' version {Version} cannot be served: {why}" : null;

    /// <summary>Counts a request as using the model until <see cref="Exit"/>; false once the model is retired (look it up again).</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_retired)
            {
                return false;
            }

            _users++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            _users--;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Takes no more requests, waits for those using the model to finish and for its queue to run dry (the work an
    /// ensemble queued on it), at most <paramref name="limit"/>, and stops the scheduler. False when time ran out
    /// first (what was left queued is answered 503). Call once the repository no longer serves the model.
    /// </summary>
    public bool Retire(TimeSpan limit)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            _retired = true;
            while (_users > 0 && Stopwatch.GetTimestamp() < deadline)
            {
                Monitor.Wait(_gate, (int)Math.Clamp((deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency, 1, int.MaxValue));
            }
        }

        return Scheduler.Drain(TimeSpan.FromSeconds(Math.Max(0, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency)));
    }

    public void Dispose()
    {
        Scheduler.Dispose();
        Backend.Dispose();
    }
}
