using System.Globalization;
using Microsoft.Extensions.Logging;
using Tessera.Onnx.Io;
using Tessera.Serving.Backends;
using Tessera.Serving.Http;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Scheduling;

namespace Tessera.Serving.Repository;

/// <summary>
/// The models a server serves, by name and version. Layout of a repository folder (like Triton's):
/// <c>DIR/&lt;model&gt;/config.json</c> (optional, see <see cref="ModelConfig"/>) and
/// <c>DIR/&lt;model&gt;/&lt;version&gt;/model.onnx</c> with positive integer versions; a request without a version
/// goes to the highest. Each model version gets its own replicas, so models run side by side (task parallel). With a
/// <see cref="ServingCluster"/> the replicas are routes over worker processes, each model on its own subset of the
/// workers (<see cref="WorkerPlacement"/>).
/// </summary>
internal sealed class ModelRepository : IDisposable
{
    public const string ModelFileName = "model.onnx";
    public const string ConfigFileName = "config.json";

    private readonly Dictionary<string, SortedDictionary<long, ServedModel>> _models = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public ModelRepository(ILogger logger, ServingCluster? cluster = null)
    {
        _logger = logger;
        Cluster = cluster;
        if (cluster is not null) cluster.Logger = logger;
    }

    /// <summary>The workers models run on, or null when they run in this process. Not owned by the repository.</summary>
    public ServingCluster? Cluster { get; }

    public IEnumerable<ServedModel> All => _models.Values.SelectMany(v => v.Values);

    public int Count => _models.Values.Sum(v => v.Count);

    /// <summary>Why the server is not ready: the first model version that cannot be served; null while every one can.</summary>
    public string? Unready => All.Select(m => m.Unready).FirstOrDefault(why => why is not null);

    /// <summary>Loads every model version under <paramref name="directory"/>; <paramref name="defaults"/> fill keys a config leaves out.</summary>
    public static ModelRepository LoadDirectory(string directory, ModelConfig defaults, ILogger logger, ServingCluster? cluster = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"model repository '{directory}' does not exist");
        var repository = new ModelRepository(logger, cluster);
        var ensembles = new List<(string Name, ModelConfig Config)>();
        var plain = new List<(string Name, string Dir, ModelConfig Config)>();
        try
        {
            foreach (string modelDir in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(modelDir);
                string configPath = Path.Combine(modelDir, ConfigFileName);
                var config = File.Exists(configPath) ? ModelConfig.Read(configPath, defaults) : defaults;
                if (config.Ensemble is not null)
                {
                    ensembles.Add((name, config)); // after every plain model, so members can be found
                }
                else
                {
                    plain.Add((name, modelDir, config));
                }
            }

            // Ensemble members first, so that the placement puts them on distinct workers even when they must share.
            var members = ensembles.SelectMany(e => e.Config.Ensemble!.Members).Distinct(StringComparer.Ordinal).ToList();
            var order = plain.OrderBy(m => members.IndexOf(m.Name) is var k and >= 0 ? k : int.MaxValue).Select(m => (m.Name, m.Config)).ToList();
            var placement = cluster is null ? null : WorkerPlacement.Assign(order, cluster.Initial.Count);
            foreach (var (name, modelDir, config) in plain)
            {
                var versions = Directory.GetDirectories(modelDir)
                    .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out long v), Version: v))
                    .Where(x => x.Ok && x.Version > 0)
                    .ToArray();
                if (versions.Length == 0)
                {
                    throw new InvalidDataException($"model folder '{modelDir}' has no version folder (e.g. {name}/1/{ModelFileName})");
                }

                foreach (var (dir, _, version) in versions)
                {
                    string file = Path.Combine(dir, ModelFileName);
                    if (!File.Exists(file)) throw new InvalidDataException($"'{dir}' has no {ModelFileName}");
                    repository.AddFile(name, version, file, config, placement?[name]);
                }
            }

            foreach (var (name, config) in ensembles)
            {
                repository.AddEnsemble(name, config);
            }
        }
        catch
        {
            repository.Dispose();
            throw;
        }

        if (repository.Count == 0) throw new InvalidDataException($"model repository '{directory}' holds no models (expected <model>/<version>/{ModelFileName})");
        return repository;
    }

    /// <summary>
    /// Loads one ONNX file as a version of <paramref name="name"/>: in this process, or on a cluster on
    /// <paramref name="workers"/> (by default where the model's config alone would place it).
    /// </summary>
    public void AddFile(string name, long version, string path, ModelConfig config, IReadOnlyList<int>? workers = null)
    {
        var model = ModelReader.Load(path);
        if (Cluster is null)
        {
            Add(name, version, new LocalBackend(model, name, config.Replicas, config.Threads), config);
            return;
        }

        // A model placed by default (no "workers" in its config) also gets the workers that join later.
        bool growing = config.WorkerIndices is null && config.WorkerCount == 0;
        workers ??= WorkerPlacement.Assign([(name, config)], Cluster.Initial.Count)[name];
        Add(name, version, ClusterBackend.Deploy(Cluster, name, path, model, workers, growing, config.Strategy ?? Cluster.Strategy), config);
    }

    /// <summary>Serves <paramref name="backend"/> and logs which workers its replicas run on.</summary>
    public void Add(string name, long version, ClusterBackend backend, ModelConfig config)
    {
        Add(name, version, (IInferenceBackend)backend, config);
        _logger.ModelPlaced(name, version.ToString(CultureInfo.InvariantCulture), string.Join(" | ", backend.Routes.Select(r => r.ToString())));
    }

    /// <summary>Serves an ensemble of models already in the repository (their highest versions) as version 1 of <paramref name="name"/>.</summary>
    public void AddEnsemble(string name, ModelConfig config)
    {
        var ensemble = config.Ensemble ?? throw new ArgumentException("the config has no ensemble", nameof(config));
        var members = new List<ServedModel>();
        foreach (string member in ensemble.Members)
        {
            if (!_models.TryGetValue(member, out var versions) || member == name)
            {
                throw new InvalidDataException($"ensemble '{name}': member '{member}' is not a model of this repository");
            }

            members.Add(versions.Values.Last());
        }

        // The ensemble itself never batches (its members do) and lets every queued call proceed to the members at once.
        var scheduler = config.Scheduler with { MaxBatchSize = 0, PreferredBatchSizes = [], MaxInflightPerReplica = config.Scheduler.MaxQueueSize };
        Add(name, 1, new EnsembleBackend(members, ensemble), config with { Replicas = 1, Scheduler = scheduler });
    }

    /// <summary>Serves <paramref name="backend"/> (owned by the repository from now on) as a model version.</summary>
    public void Add(string name, long version, IInferenceBackend backend, ModelConfig config)
    {
        try
        {
            config.Validate();
            if (config.Scheduler.MaxBatchSize > 0 && !backend.Signature.HasBatchAxis)
            {
                throw new InvalidDataException(
                    $"model '{name}' cannot be batched: every input and output needs a variable first dimension; set max_batch_size to 0");
            }
        }
        catch (ArgumentException e)
        {
            backend.Dispose();
            throw new InvalidDataException($"model '{name}': {e.Message}", e);
        }
        catch
        {
            backend.Dispose();
            throw;
        }

        if (!_models.TryGetValue(name, out var versions))
        {
            _models[name] = versions = [];
        }

        string v = version.ToString(CultureInfo.InvariantCulture);
        var metrics = new ModelMetrics(name, v);
        var scheduler = new ModelScheduler($"{name}/{v}", backend, config.Scheduler, metrics, _logger);
        versions.Add(version, new ServedModel(name, v, backend, config, scheduler, metrics));
        _logger.ModelLoaded(name, v, backend.ReplicaCount, config.Threads,
            config.Scheduler.MaxBatchSize > 0 ? $"up to {config.Scheduler.MaxBatchSize} rows" : "off", ModelConfig.PolicyName(config.Scheduler.Policy));
    }

    /// <summary>The version asked for, or the highest when <paramref name="version"/> is null; 404 otherwise.</summary>
    public ServedModel Find(string name, string? version)
    {
        if (TryFind(name, version) is { } model)
        {
            return model;
        }

        if (!_models.TryGetValue(name, out var versions))
        {
            throw ServingException.NotFound($"unknown model '{name}'; served models: {string.Join(", ", _models.Keys)}");
        }

        throw ServingException.NotFound($"model '{name}' has no version '{version}'; its versions are: {string.Join(", ", versions.Keys)}");
    }

    /// <summary>The version asked for (the highest when null), or null when the model or the version is not served.</summary>
    public ServedModel? TryFind(string name, string? version)
    {
        if (!_models.TryGetValue(name, out var versions))
        {
            return null;
        }

        if (version is null)
        {
            return versions.Values.Last();
        }

        return long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && versions.TryGetValue(v, out var model) ? model : null;
    }

    public IEnumerable<string> Versions(string name) =>
        _models.TryGetValue(name, out var versions) ? versions.Keys.Select(k => k.ToString(CultureInfo.InvariantCulture)) : [];

    public void Dispose()
    {
        foreach (var m in All) m.Dispose();
        _models.Clear();
    }
}
