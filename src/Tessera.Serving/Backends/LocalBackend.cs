using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// Runs a model in this process: <c>replicas</c> sessions built from one parsed model (weights are read once;
/// each session plans and pre-packs its own copy), each on its own thread with <c>threads</c> intra-op threads.
/// </summary>
internal sealed class LocalBackend : IInferenceBackend
{
    private readonly ReplicaThread[] _replicas;

    public LocalBackend(OnnxModel model, string name, int replicas, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        var options = new SessionOptions { Threads = threads };
        var sessions = new InferenceSession[replicas];
        for (int i = 0; i < replicas; i++)
        {
            sessions[i] = new InferenceSession(model, options);
        }

        Signature = new ModelSignature(
            sessions[0].Inputs.Select(TensorSignature.From).ToArray(),
            sessions[0].Outputs.Select(TensorSignature.From).ToArray());
        _replicas = sessions.Select((s, i) => new ReplicaThread(s, $"tessera {name} replica {i}")).ToArray();
    }

    public ModelSignature Signature { get; }

    public int ReplicaCount => _replicas.Length;

    public double DeclaredSpeed(int replica) => 1.0;

    public int Waiting(int replica) => _replicas[replica].Waiting;

    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(int replica, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken) =>
        _replicas[replica].Enqueue(inputs, cancellationToken);

    public void Dispose()
    {
        foreach (var r in _replicas) r.Dispose();
    }
}
