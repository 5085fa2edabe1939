using System.Text.Json;
using Tessera.Cluster.Deployments;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Repository;

/// <summary>
/// A model's serving options: how many in-process replicas with how many threads each, and its batching,
/// scheduling, priority and queue options. Read from a repository's &lt;model&gt;/config.json (every key optional;
/// unknown keys are errors, so a typo is not silently ignored) or built from `tessera serve` options.
/// </summary>
internal sealed record ModelConfig
{
    public int Replicas { get; init; } = 1;

    /// <summary>Intra-op threads per replica (0: one per core).</summary>
    public int Threads { get; init; } = 1;

    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Set when the model is an ensemble of other models rather than an ONNX file.</summary>
    public EnsembleConfig? Ensemble { get; init; }

    /// <summary>On a cluster: how many workers the model gets (0: its even share of the workers).</summary>
    public int WorkerCount { get; init; }

    /// <summary>On a cluster: exactly these workers (indices from 0), instead of a count.</summary>
    public int[]? WorkerIndices { get; init; }

    /// <summary>On a cluster: how the model uses its workers; null takes the server's `--strategy`.</summary>
    public DeploymentStrategy? Strategy { get; init; }

    public static ModelConfig Read(string path, ModelConfig defaults)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(doc.RootElement, defaults);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static ModelConfig Parse(JsonElement root, ModelConfig defaults)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("the config must be a JSON object");
        int replicas = defaults.Replicas, threads = defaults.Threads;
        var s = defaults.Scheduler;
        EnsembleConfig? ensemble = null;
        int workerCount = defaults.WorkerCount;
        int[]? workerIndices = defaults.WorkerIndices;
        var strategy = defaults.Strategy;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "replicas": replicas = p.Value.GetInt32(); break;
                case "threads": threads = p.Value.GetInt32(); break;
                case "max_batch_size": s = s with { MaxBatchSize = p.Value.GetInt32() }; break;
                case "dynamic_batching":
                    foreach (var b in p.Value.EnumerateObject())
                    {
                        s = b.Name switch
                        {
                            "max_queue_delay_us" => s with { MaxQueueDelayMicroseconds = b.Value.GetInt64() },
                            "preferred_batch_sizes" => s with { PreferredBatchSizes = b.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray() },
                            _ => throw new ArgumentException($"unknown key dynamic_batching.{b.Name} (known: max_queue_delay_us, preferred_batch_sizes)"),
                        };
                    }

                    break;
                case "scheduling": s = s with { Policy = ParsePolicy(p.Value.GetString()) }; break;
                case "max_queue_size": s = s with { MaxQueueSize = p.Value.GetInt32() }; break;
                case "priority_levels": s = s with { PriorityLevels = p.Value.GetInt32() }; break;
                case "default_priority": s = s with { DefaultPriority = p.Value.GetInt32() }; break;
                case "default_timeout_us": s = s with { DefaultTimeoutMicroseconds = p.Value.GetInt64() }; break;
                case "max_inflight_per_replica": s = s with { MaxInflightPerReplica = p.Value.GetInt32() }; break;
                case "ensemble": ensemble = EnsembleConfig.Parse(p.Value); break;
                case "workers" when p.Value.ValueKind == JsonValueKind.Array:
                    (workerCount, workerIndices) = (0, p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray());
                    break;
                case "workers":
                    workerCount = p.Value.GetInt32() is var n and > 0 ? n : throw new ArgumentException("workers must be a positive count or a list of worker indices");
                    workerIndices = null;
                    break;
                case "strategy": strategy = ParseStrategy(p.Value.GetString()); break;
                default:
                    throw new ArgumentException($"unknown key '{p.Name}' (known: replicas, threads, max_batch_size, dynamic_batching, scheduling, max_queue_size, priority_levels, default_priority, default_timeout_us, max_inflight_per_replica, ensemble, workers, strategy)");
            }
        }

        var config = new ModelConfig
        {
            Replicas = replicas, Threads = threads, Scheduler = s, Ensemble = ensemble,
            WorkerCount = workerCount, WorkerIndices = workerIndices, Strategy = strategy,
        };
        config.Validate();
        return config;
    }

    public static SchedulingPolicyKind ParsePolicy(string? name) => name switch
    {
        "dynamic" => SchedulingPolicyKind.Dynamic,
        "round_robin" or "static" => SchedulingPolicyKind.RoundRobin,
        _ => throw new ArgumentException($"scheduling must be \"dynamic\" or \"round_robin\", not \"{name}\""),
    };

    public static DeploymentStrategy ParseStrategy(string? name) => DeploymentStrategies.Parse(name);

    public static string PolicyName(SchedulingPolicyKind kind) => kind == SchedulingPolicyKind.Dynamic ? "dynamic" : "round_robin";

    public void Validate()
    {
        if (Replicas < 1) throw new ArgumentException("replicas must be 1 or more");
        if (Threads < 0) throw new ArgumentException("threads must be 0 or more");
        if (WorkerCount < 0) throw new ArgumentException("workers must be a positive count or a list of worker indices");
        if (WorkerIndices is { } w && (w.Length == 0 || w.Any(i => i < 0) || w.Distinct().Count() != w.Length))
        {
            throw new ArgumentException("workers must list distinct worker indices (from 0), at least one");
        }

        Scheduler.Validate();
    }
}
