using System.Collections.Concurrent;
using Tessera.Serving.Backends;
using Tessera.Tensors;

namespace Tessera.Tests.Serving;

/// <summary>
/// A real <see cref="LocalBackend"/> behind a gate the test opens, so a test can hold replicas busy while it
/// queues requests. Records which replica started which request (identified by the first value of input "x").
/// </summary>
internal sealed class GatedBackend : IInferenceBackend
{
    private readonly LocalBackend _inner;
    private readonly SemaphoreSlim _gate;
    private readonly int[] _delayMs;

    public GatedBackend(int replicas, bool open = false, params int[] delayMs)
    {
        _inner = new LocalBackend(TestModels.Affine(), "gated", replicas, 1);
        _gate = new SemaphoreSlim(open ? int.MaxValue / 2 : 0);
        _delayMs = delayMs.Length == replicas ? delayMs : new int[replicas];

        // Warm every replica up, so that the first measured run of a replica is not its slow first run.
        var x = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new float[4], 1, 4) };
        for (int i = 0; i < replicas; i++)
        {
            _inner.RunAsync(i, x, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>(replica, id) in the order runs started.</summary>
    public ConcurrentQueue<(int Replica, float Id)> Started { get; } = new();

    public ModelSignature Signature => _inner.Signature;

    public int ReplicaCount => _inner.ReplicaCount;

    public double DeclaredSpeed(int replica) => 1;

    public int Waiting(int replica) => 0;

    public void Open() => _gate.Release(int.MaxValue / 2);

    public async Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        Started.Enqueue((replica, inputs["x"].Span<float>()[0]));
        await _gate.WaitAsync(cancellationToken);
        _gate.Release();
        if (_delayMs[replica] > 0) await Task.Delay(_delayMs[replica], cancellationToken);
        return await _inner.RunAsync(replica, inputs, cancellationToken);
    }

    public void Dispose() => _inner.Dispose();
}
