using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tessera.Cluster.Collective;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Engine;

namespace Tessera.Cluster.Worker;

/// <summary>
/// The worker's models: files in the cache directory named by SHA-256 (<c>HEX.onnx</c>), and the loaded ones
/// charged against the memory budget by their file size (weights dominate a model's memory).
/// </summary>
internal sealed class ModelStore : IDisposable
{
    private readonly WorkerOptions _options;
    private readonly ILogger _logger;
    private readonly ITensorAllocator _outputs;
    private readonly Func<NetworkCommunicator> _communicators;
    private readonly Dictionary<string, LoadedModel> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<LoadedModel>> _loading = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="communicators">Makes each loaded model's collective communicator (used only by tensor-parallel shards).</param>
    public ModelStore(WorkerOptions options, ILogger logger, Func<NetworkCommunicator> communicators, ITensorAllocator outputs)
    {
        _options = options;
        _logger = logger;
        _communicators = communicators;
        _outputs = outputs;
        Directory.CreateDirectory(options.CacheDirectory);
    }

    public long MemoryUsed
    {
        get
        {
            lock (_lock)
            {
                return _loaded.Values.Sum(m => m.Bytes);
            }
        }
    }

    public int LoadedCount
    {
        get
        {
            lock (_lock)
            {
                return _loaded.Count;
            }
        }
    }

    public string PathOf(string hex) => Path.Combine(_options.CacheDirectory, hex + ".onnx");

    public ModelState State(string hex)
    {
        lock (_lock)
        {
            if (_loaded.ContainsKey(hex))
            {
                return ModelState.Loaded;
            }
        }

        return File.Exists(PathOf(hex)) ? ModelState.Cached : ModelState.Absent;
    }

    /// <summary>Starts an upload after checking that a model of this size could be loaded at all.</summary>
    public ModelUpload BeginUpload(ulong requestId, byte[] hash, long length)
    {
        CheckBudget(Convert.ToHexStringLower(hash), length);
        return new ModelUpload(requestId, hash, length, _options.CacheDirectory);
    }

    public void CompleteUpload(ModelUpload upload)
    {
        string hex = Convert.ToHexStringLower(upload.ExpectedHash);
        upload.Complete(PathOf(hex));
        WorkerLog.ModelStored(_logger, hex, upload.Length);
    }

    public bool TryGetLoaded(string hex, out LoadedModel model)
    {
        lock (_lock)
        {
            return _loaded.TryGetValue(hex, out model!);
        }
    }

    /// <summary>Loads a cached model once (concurrent callers share the load), verifying the file's hash first.</summary>
    public Task<LoadedModel> LoadAsync(string hex)
    {
        lock (_lock)
        {
            if (_loaded.TryGetValue(hex, out var model))
            {
                return Task.FromResult(model);
            }

            if (!_loading.TryGetValue(hex, out var task))
            {
                // Building a session JIT-compiles and pre-packs for seconds: a thread of its own keeps the pool free for heartbeats.
                task = Task.Factory.StartNew(() => LoadCore(hex), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                _loading[hex] = task;
                task.ContinueWith(_ => { lock (_lock) _loading.Remove(hex); }, TaskScheduler.Default);
            }

            return task;
        }
    }

    private LoadedModel LoadCore(string hex)
    {
        string path = PathOf(hex);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new ClusterException(ClusterErrorCode.UnknownModel, $"model {hex} is not in this worker's cache; ship it first");
        }

        if (!Convert.ToHexStringLower(SHA256.HashData(bytes)).Equals(hex, StringComparison.Ordinal))
        {
            // A corrupted cache entry: drop it so that the coordinator ships the model again.
            File.Delete(path);
            throw new ClusterException(ClusterErrorCode.HashMismatch, $"cached model {hex} no longer matches its hash and was removed; ship it again");
        }

        CheckBudget(hex, bytes.Length);
        InferenceSession session;
        // Any model may be a shard; which group it runs in comes with each request.
        var communicator = _communicators();
        try
        {
            session = new InferenceSession(Onnx.Io.ModelReader.Parse(bytes, _options.CacheDirectory, hex + ".onnx"), new SessionOptions { Threads = _options.Threads, Communicator = communicator });
        }
        catch (Exception e) when (e is InferenceException or Onnx.Io.OnnxFormatException)
        {
            throw new ClusterException(ClusterErrorCode.InferenceFailed, $"cannot load model {hex}: {e.Message}");
        }

        var model = new LoadedModel(hex, session, communicator, bytes.Length, _outputs);
        lock (_lock)
        {
            // Checked again under the lock: two different models may have loaded at the same time.
            CheckBudgetUnsynchronized(hex, bytes.Length);
            _loaded[hex] = model;
        }

        WorkerLog.ModelLoaded(_logger, hex, bytes.Length, MemoryUsed);
        return model;
    }

    private void CheckBudget(string hex, long bytes)
    {
        lock (_lock)
        {
            CheckBudgetUnsynchronized(hex, bytes);
        }
    }

    private void CheckBudgetUnsynchronized(string hex, long bytes)
    {
        long used = _loaded.Values.Sum(m => m.Bytes);
        if (_options.MemoryBudget > 0 && used + bytes > _options.MemoryBudget)
        {
            throw new ClusterException(ClusterErrorCode.MemoryBudget, $"model {hex[..12]} of {bytes} bytes would exceed the memory budget ({used} of {_options.MemoryBudget} bytes in use)");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var model in _loaded.Values)
            {
                model.Dispose();
            }

            _loaded.Clear();
        }
    }
}
