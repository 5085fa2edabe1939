using System.Collections.Concurrent;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Repository;

/// <summary>
/// Triton's model repository extension over a <see cref="ModelRepository"/>: the index of the repository folder
/// (served versions and the models that are not loaded, with why), loading or reloading a model from its folder,
/// and unloading it. Changes are made one at a time; a reloaded model is served by its new versions the moment
/// they are ready, and old versions drain: what they accepted still runs, nothing is lost. Ensembles follow their
/// members: reloading a member rebuilds the loaded ensembles over it, unloading one needs "unload_dependents" to
/// unload them too. Failures are <see cref="ServingException"/>s with the HTTP status the front doors speak.
/// </summary>
internal sealed class RepositoryControl
{
    /// <summary>Longest wait for an old model version to finish its accepted work before it is stopped regardless.</summary>
    public static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(30);

    public const string UnloadDependents = "unload_dependents";

    private readonly ModelRepository _models;
    private readonly SemaphoreSlim _changing = new(1, 1);
    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);

    /// <param name="enabled">Whether clients may load and unload models (the index is always answered).</param>
    public RepositoryControl(ModelRepository models, bool enabled)
    {
        _models = models;
        Enabled = enabled;
    }

    public bool Enabled { get; }

    /// <summary>Every model of the folder and every served model: its served versions, or one line saying why it is not served.</summary>
    public IReadOnlyList<RepositoryIndexEntry> Index(string repositoryName, bool readyOnly)
    {
        CheckRepository(repositoryName);
        var names = new SortedSet<string>(_models.All.Select(m => m.Name), StringComparer.Ordinal);
        if (_models.Directory is { } directory)
        {
            try
            {
                names.UnionWith(ModelFolder.Names(directory));
            }
            catch (IOException e)
            {
                throw new ServingException(500, $"cannot read the repository folder: {e.Message}");
            }
        }

        var entries = new List<RepositoryIndexEntry>();
        foreach (string name in names)
        {
            var versions = _models.Versions(name).ToList();
            entries.AddRange(versions.Select(v => new RepositoryIndexEntry(name, v, RepositoryIndexEntry.Ready, "")));
            if (versions.Count == 0 && !readyOnly)
            {
                entries.Add(new RepositoryIndexEntry(name, "", RepositoryIndexEntry.Unavailable, _reasons.GetValueOrDefault(name, "not loaded")));
            }
        }

        return entries;
    }

    /// <summary>Loads <paramref name="name"/> from its folder, or reloads it (every version on disk, its config as it is now).</summary>
    public async Task LoadAsync(string repositoryName, string name, IReadOnlyDictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        CheckAllowed(repositoryName);
        foreach (string key in parameters.Keys)
        {
            throw ServingException.BadRequest($"load parameter \"{key}\" is not supported: the model is loaded from its folder as it is on disk (edit {name}/{ModelFolder.ConfigFileName} to change its config)");
        }

        string directory = _models.Directory
            ?? throw ServingException.BadRequest("the server serves a model file, not a repository folder: start it with --repository DIR to load models");
        if (!ModelFolder.Names(directory).Contains(name, StringComparer.Ordinal))
        {
            throw ServingException.NotFound($"the repository has no model folder '{name}'");
        }

        await _changing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(() => Load(directory, name), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>Stops serving every version of <paramref name="name"/> once it has run what it accepted.</summary>
    public async Task UnloadAsync(string repositoryName, string name, IReadOnlyDictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        CheckAllowed(repositoryName);
        bool dependents = false;
        foreach (var (key, value) in parameters)
        {
            dependents = key == UnloadDependents && value is bool b ? b
                : throw ServingException.BadRequest($"unload parameter \"{key}\" is not supported (only \"{UnloadDependents}\", a boolean)");
        }

        await _changing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(() => Unload(name, dependents), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _changing.Release();
        }
    }

    private void Load(string directory, string name)
    {
        var built = new List<ServedModel>();
        try
        {
            var folder = ModelFolder.Read(directory, name, _models.Defaults);
            if (folder.Config.Ensemble is not null)
            {
                built.Add(_models.BuildEnsemble(name, folder.Config, m => _models.TryFind(m, null)));
            }
            else
            {
                foreach (var (version, file) in folder.Versions)
                {
                    built.Add(_models.BuildFile(name, version, file, folder.Config));
                }
            }

            var changes = new Dictionary<string, IReadOnlyList<ServedModel>>(StringComparer.Ordinal) { [name] = [.. built] };
            foreach (var ensemble in Dependents(name))
            {
                var rebuilt = _models.BuildEnsemble(ensemble.Name, ensemble.Config, m => m == name ? built[^1] : _models.TryFind(m, null));
                built.Add(rebuilt);
                changes[ensemble.Name] = [rebuilt];
            }

            _reasons.TryRemove(name, out _);
            Retire(_models.Swap(changes));
        }
        catch (Exception e)
        {
            foreach (var m in built) m.Dispose();
            string reason = $"failed to load model '{name}': {e.Message}";
            _models.Logger.ModelLoadFailed(name, reason);
            if (_models.TryFind(name, null) is null)
            {
                _reasons[name] = reason;
            }

            // What is wrong with the folder's files is the client's to fix; anything else is the server's failure.
            bool folder = e is InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException
                or Onnx.Io.OnnxFormatException or Engine.InferenceException or Cluster.Transport.ClusterException;
            throw new ServingException(folder ? 400 : 500, reason, e);
        }
    }

    private void Unload(string name, bool unloadDependents)
    {
        if (_models.TryFind(name, null) is null)
        {
            bool inFolder = _models.Directory is { } directory && ModelFolder.Names(directory).Contains(name, StringComparer.Ordinal);
            if (!inFolder)
            {
                throw ServingException.NotFound($"unknown model '{name}'");
            }

            return; // unloading is idempotent, as Triton's
        }

        var dependents = Dependents(name);
        if (dependents.Count > 0 && !unloadDependents)
        {
            throw new ServingException(409, $"model '{name}' is a member of the loaded ensemble(s) {string.Join(", ", dependents.Select(d => $"'{d.Name}'"))}: unload them first, or pass \"{UnloadDependents}\": true");
        }

        var changes = new Dictionary<string, IReadOnlyList<ServedModel>>(StringComparer.Ordinal) { [name] = [] };
        foreach (var d in dependents)
        {
            changes[d.Name] = [];
            _reasons[d.Name] = $"unloaded with its member '{name}'";
        }

        _reasons[name] = "unloaded";
        Retire(_models.Swap(changes));
    }

    /// <summary>The loaded ensembles that have <paramref name="member"/> among their members.</summary>
    private List<ServedModel> Dependents(string member) =>
        [.. _models.All.Where(m => m.Name != member && m.Config.Ensemble is { } e && e.Members.Contains(member, StringComparer.Ordinal))];

    /// <summary>Drains and disposes model versions no longer served: ensembles first, as their queued work needs their members.</summary>
    private void Retire(IReadOnlyList<ServedModel> old)
    {
        foreach (var m in old.OrderBy(m => m.Config.Ensemble is null))
        {
            bool drained = m.Retire(DrainLimit);
            m.Dispose();
            _models.Logger.ModelUnloaded(m.Name, m.Version, drained ? "its accepted requests all ran" : $"stopped after {DrainLimit.TotalSeconds:0} s with requests left");
        }
    }

    private void CheckAllowed(string repositoryName)
    {
        if (!Enabled)
        {
            throw new ServingException(403, "repository control is off: start the server with --repository-control to load and unload models");
        }

        CheckRepository(repositoryName);
    }

    /// <summary>A repository name, when given, must be the server's folder (as given at start, or its last path segment).</summary>
    private void CheckRepository(string repositoryName)
    {
        if (repositoryName.Length == 0)
        {
            return;
        }

        string? directory = _models.Directory;
        bool same = directory is not null && (repositoryName == directory
            || repositoryName == Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))));
        if (!same)
        {
            throw ServingException.NotFound($"unknown repository '{repositoryName}'{(directory is null ? "; the server serves no repository folder" : $"; the server's is '{directory}'")}");
        }
    }
}
