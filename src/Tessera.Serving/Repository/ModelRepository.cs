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
/// The models a server serves, by name and version; a request without a version goes to the highest. Each model
/// version gets its own replicas, so models run side by side (task parallel). With a <see cref="ServingCluster"/>
/// the replicas are routes over worker processes, each model on its own subset of the workers
/// (<see cref="WorkerPlacement"/>). Safe for concurrent use: requests read an immutable snapshot, and changes
/// (<see cref="Swap"/>, used by <see cref="RepositoryControl"/>) publish a new one.
/// </summary>
internal sealed class ModelRepository : IDisposable
{
    private readonly object _write = new();
    private readonly ILogger _logger;

    // Replaced whole, never changed once published: versions in ascending order.
    private volatile Dictionary<string, ServedModel[]> _models = new(StringComparer.Ordinal);

    public ModelRepository(ILogger logger, ServingCluster? cluster = null, string? directory = null, ModelConfig? defaults = null)
    {
        _logger = logger;
        if (cluster is not null) cluster.Logger = logger;
        Cluster = cluster;
        Directory = directory;
        Defaults = defaults ?? new ModelConfig();
        Meter = new ServingMeter(this);
    }

    /// <summary>The models' metrics as instruments of the "Tessera.Serving" meter.</summary>
    public ServingMeter Meter { get; }

    /// <summary>The workers models run on, or null when they run in this process. Not owned by the repository.</summary>
    public ServingCluster? Cluster { get; }

    /// <summary>The repository folder the models came from, or null when they were given one by one.</summary>
    public string? Directory { get; }

    /// <summary>The options of keys a model's config.json leaves out.</summary>
    public ModelConfig Defaults { get; }

    public ILogger Logger => _logger;

    public IEnumerable<ServedModel> All => _models.Values.SelectMany(v => v);

    public int Count => _models.Values.Sum(v => v.Length);

    /// <summary>Why the server is not ready: the first model version that cannot be served; null while every one can.</summary>
    public string? Unready => All.Select(m => m.Unready).FirstOrDefault(why => why is not null);

    /// <summary>Loads every model version under <paramref name="directory"/>; <paramref name="defaults"/> fill keys a config leaves out.</summary>
    public static ModelRepository LoadDirectory(string directory, ModelConfig defaults, ILogger logger, ServingCluster? cluster = null)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"model repository '{directory}' does not exist");
        var repository = new ModelRepository(logger, cluster, directory, defaults);
        try
        {
            var folders = ModelFolder.Names(directory).Select(name => ModelFolder.Read(directory, name, defaults)).ToList();
            var ensembles = folders.Where(f => f.Config.Ensemble is not null).ToList();
            var plain = folders.Where(f => f.Config.Ensemble is null).ToList();

            // Ensemble members first, so that the placement puts them on distinct workers even when they must share.
            var members = ensembles.SelectMany(e => e.Config.Ensemble!.Members).Distinct(StringComparer.Ordinal).ToList();
            var order = plain.OrderBy(m => members.IndexOf(m.Name) is var k and >= 0 ? k : int.MaxValue).Select(m => (m.Name, m.Config)).ToList();
            var placement = cluster is null ? null : WorkerPlacement.Assign(order, cluster.Initial.Count);
            foreach (var folder in plain)
            {
                foreach (var (version, file) in folder.Versions)
                {
                    repository.AddFile(folder.Name, version, file, folder.Config, placement?[folder.Name]);
                }
            }

            foreach (var folder in ensembles)
            {
                repository.AddEnsemble(folder.Name, folder.Config); // after every plain model, so members can be found
            }
        }
        catch
        {
            repository.Dispose();
            throw;
        }

        if (repository.Count == 0) throw new InvalidDataException($"model repository '{directory}' holds no models (expected <model>/<version>/{ModelFolder.ModelFileName})");
        return repository;
    }

    /// <summary>
    /// Loads one ONNX file as a version of <paramref name="name"/>: in this process, or on a cluster on
    /// <paramref name="workers"/> (by default where the model's config alone would place it).
    /// </summary>
    public void AddFile(string name, long version, string path, ModelConfig config, IReadOnlyList<int>? workers = null) =>
        Publish(BuildFile(name, version, path, config, workers));

    /// <summary>Serves <paramref name="backend"/> and logs which workers its replicas run on.</summary>
    public void Add(string name, long version, ClusterBackend backend, ModelConfig config) => Publish(Build(name, version, backend, config));

    /// <summary>Serves an ensemble of models already in the repository (their highest versions) as version 1 of <paramref name="name"/>.</summary>
    public void AddEnsemble(string name, ModelConfig config) => Publish(BuildEnsemble(name, config, member => TryFind(member, null)));

    /// <summary>Serves <paramref name="backend"/> (owned by the repository from now on) as a model version.</summary>
    public void Add(string name, long version, IInferenceBackend backend, ModelConfig config) => Publish(Build(name, version, backend, config));

    /// <summary>A model version from an ONNX file, ready to serve but not served yet (see <see cref="Swap"/>).</summary>
    public ServedModel BuildFile(string name, long version, string path, ModelConfig config, IReadOnlyList<int>? workers = null)
    {
        var model = ModelReader.Load(path);
        if (Cluster is null)
        {
            return Build(name, version, new LocalBackend(model, name, config.Replicas, config.Threads), config);
        }

        // A model placed by default (no "workers" in its config) also gets the workers that join later.
        bool growing = config.WorkerIndices is null && config.WorkerCount == 0;
        workers ??= WorkerPlacement.Assign([(name, config)], Cluster.Initial.Count)[name];
        return Build(name, version, ClusterBackend.Deploy(Cluster, name, path, model, workers, growing, config.Strategy ?? Cluster.Strategy), config);
    }

    /// <summary>An ensemble over the models <paramref name="member"/> finds (null: not served), as version 1, not served yet.</summary>
    public ServedModel BuildEnsemble(string name, ModelConfig config, Func<string, ServedModel?> member)
    {
        var ensemble = config.Ensemble ?? throw new ArgumentException("the config has no ensemble", nameof(config));
        var members = ensemble.Members.Select(m => (m == name ? null : member(m))
            ?? throw new InvalidDataException($"ensemble '{name}': member '{m}' is not a loaded model of this repository")).ToList();

        // The ensemble itself never batches (its members do) and lets every queued call proceed to the members at once.
        var scheduler = config.Scheduler with { MaxBatchSize = 0, PreferredBatchSizes = [], MaxInflightPerReplica = config.Scheduler.MaxQueueSize };
        return Build(name, 1, new EnsembleBackend(members, ensemble), config with { Replicas = 1, Scheduler = scheduler });
    }

    /// <summary>
    /// Serves the given versions of each named model instead of those served now (an empty list stops serving
    /// the model), all at once; returns the model versions no longer served, for the caller to drain and dispose.
    /// </summary>
    public IReadOnlyList<ServedModel> Swap(IReadOnlyDictionary<string, IReadOnlyList<ServedModel>> models)
    {
        lock (_write)
        {
            var next = new Dictionary<string, ServedModel[]>(_models, StringComparer.Ordinal);
            var replaced = new List<ServedModel>();
            foreach (var (name, versions) in models)
            {
                if (next.Remove(name, out var old))
                {
                    replaced.AddRange(old);
                }

                if (versions.Count > 0)
                {
                    next[name] = [.. versions.OrderBy(v => long.Parse(v.Version, CultureInfo.InvariantCulture))];
                }
            }

            _models = next;
            return replaced;
        }
    }

    /// <summary>The version asked for, or the highest when <paramref name="version"/> is null; 404 otherwise.</summary>
    public ServedModel Find(string name, string? version)
    {
        var models = _models;
        if (Find(models, name, version) is { } model)
        {
            return model;
        }

        if (!models.TryGetValue(name, out var versions))
        {
            throw ServingException.NotFound($"unknown model '{name}'; served models: {string.Join(", ", models.Keys)}");
        }

        throw ServingException.NotFound($"model '{name}' has no version '{version}'; its versions are: {string.Join(", ", versions.Select(v => v.Version))}");
    }

    /// <summary>
    /// <see cref="Find"/> for a request that runs on the model: the version cannot be retired until the use is
    /// disposed. A version retired between the lookup and the count is looked up again in the new snapshot.
    /// </summary>
    public ModelUse Enter(string name, string? version)
    {
        while (true)
        {
            var model = Find(name, version);
            if (model.TryEnter())
            {
                return new ModelUse(model);
            }
        }
    }

    /// <summary>The version asked for (the highest when null), or null when the model or the version is not served.</summary>
    public ServedModel? TryFind(string name, string? version) => Find(_models, name, version);

    public IEnumerable<string> Versions(string name) => _models.TryGetValue(name, out var versions) ? versions.Select(v => v.Version) : [];

    public void Dispose()
    {
        IEnumerable<ServedModel> all;
        lock (_write)
        {
            all = All.ToList();
            _models = new(StringComparer.Ordinal);
        }

        foreach (var m in all) m.Dispose();
        Meter.Dispose();
    }

    private static ServedModel? Find(Dictionary<string, ServedModel[]> models, string name, string? version)
    {
        if (!models.TryGetValue(name, out var versions))
        {
            return null;
        }

        return version is null ? versions[^1] : Array.Find(versions, v => v.Version == version);
    }

    private void Publish(ServedModel model)
    {
        lock (_write)
        {
            var versions = _models.TryGetValue(model.Name, out var old) ? old : [];
            if (Array.Exists(versions, v => v.Version == model.Version))
            {
                model.Dispose();
                throw new InvalidDataException($"model '{model.Name}' already has version {model.Version}");
            }

            Swap(new Dictionary<string, IReadOnlyList<ServedModel>> { [model.Name] = [.. versions, model] });
        }
    }

    private ServedModel Build(string name, long version, ClusterBackend backend, ModelConfig config)
    {
        var model = Build(name, version, (IInferenceBackend)backend, config);
        _logger.ModelPlaced(name, model.Version, string.Join(" | ", backend.Routes.Select(r => r.ToString())));
        return model;
    }

    private ServedModel Build(string name, long version, IInferenceBackend backend, ModelConfig config)
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

        string v = version.ToString(CultureInfo.InvariantCulture);
        var metrics = new ModelMetrics(name, v, Meter);
        var scheduler = new ModelScheduler($"{name}/{v}", backend, config.Scheduler, metrics, _logger);
        _logger.ModelLoaded(name, v, backend.ReplicaCount, config.Threads,
            config.Scheduler.MaxBatchSize > 0 ? $"up to {config.Scheduler.MaxBatchSize} rows" : "off", ModelConfig.PolicyName(config.Scheduler.Policy));
        return new ServedModel(name, v, backend, config, scheduler, metrics);
    }
}
