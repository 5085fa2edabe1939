using Tessera.Engine;
using Tessera.Kernels.Collective;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// Runs the shards of a tensor-parallel model in this process: one <see cref="InferenceSession"/> per rank, wired
/// to an <see cref="InMemoryCollectiveGroup"/>, each run on its own thread. Every rank computes the same outputs;
/// <see cref="Run"/> returns rank 0's. Calls are serialised.
/// </summary>
public sealed class TensorParallelGroup : IDisposable
{
    private readonly InMemoryCollectiveGroup _collectives;
    private readonly InferenceSession[] _sessions;
    private readonly object _runLock = new();
    private bool _disposed;

    public TensorParallelGroup(IReadOnlyList<OnnxModel> shards, SessionOptions options)
        : this(shards, options, null)
    {
    }

    /// <param name="collectiveTimeout">How long a rank waits for the others at a collective (default 60 s).</param>
    public TensorParallelGroup(IReadOnlyList<OnnxModel> shards, SessionOptions options, TimeSpan? collectiveTimeout)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(options);
        if (shards.Count == 0)
        {
            throw new ArgumentException("a tensor-parallel group needs at least one shard", nameof(shards));
        }

        _collectives = new InMemoryCollectiveGroup(shards.Count, collectiveTimeout);
        _sessions = shards.Select((shard, rank) => new InferenceSession(shard, options.WithCommunicator(_collectives.Communicators[rank]))).ToArray();
    }

    public int Degree => _sessions.Length;

    /// <summary>The session of each rank (index = rank).</summary>
    public IReadOnlyList<InferenceSession> Sessions => _sessions;

    /// <summary>Runs every rank at once and returns rank 0's outputs (the caller owns them).</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => RunAll(inputs)[0];

    /// <summary>Runs every rank at once and returns each rank's outputs (index = rank); they are identical by construction.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, Tensor>> RunAll(IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        lock (_runLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var results = new IReadOnlyDictionary<string, Tensor>?[_sessions.Length];
            var errors = new Exception?[_sessions.Length];
            void RunRank(int rank)
            {
                try
                {
                    results[rank] = _sessions[rank].Run(inputs);
                }
                catch (Exception e)
                {
                    errors[rank] = e;

                    // The others would wait for this rank at their next collective: let them fail now instead.
                    _collectives.Abort($"rank {rank} failed: {e.Message}");
                }
            }

            var threads = Enumerable.Range(1, _sessions.Length - 1)
                .Select(rank => new Thread(() => RunRank(rank)) { IsBackground = true, Name = $"tessera-tp-rank-{rank}" })
                .ToArray();
            foreach (var thread in threads) thread.Start();
            RunRank(0);
            foreach (var thread in threads) thread.Join();

            if (errors.Any(e => e is not null))
            {
                _collectives.Reset();
                throw RootCause(errors);
            }

            return results!;
        }
    }

    public void Dispose()
    {
        lock (_runLock)
        {
            _disposed = true;
        }
    }

    /// <summary>
    /// The error that started the failure: the first that is not a collective's consequence of another rank's
    /// failure. When every rank failed alike (e.g. a bad input), that error as it is; otherwise it names its rank.
    /// </summary>
    private static Exception RootCause(Exception?[] errors)
    {
        if (errors.All(e => e is not null && e.GetType() == errors[0]!.GetType() && e.Message == errors[0]!.Message))
        {
            return errors[0]!;
        }

        static bool Consequence(Exception e) => e is CollectiveException || e.InnerException is CollectiveException;
        int rank = Array.FindIndex(errors, e => e is not null && !Consequence(e));
        if (rank < 0)
        {
            rank = Array.FindIndex(errors, e => e is not null);
        }

        var error = errors[rank]!;
        return error is InferenceException ? new InferenceException($"rank {rank}: {error.Message}", error) : error;
    }
}
