using Tessera.Serving.Backends;
using Tessera.Serving.Metrics;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Repository;

/// <summary>One loaded model version: its backend, its scheduler (queue and batching) and its metrics.</summary>
internal sealed class ServedModel : IDisposable
{
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

    public void Dispose()
    {
        Scheduler.Dispose();
        Backend.Dispose();
    }
}
