using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// One batch's outputs from <see cref="Deployment.RunLeasedAsync"/>, by name. Outputs that came from a worker on this
/// host may be views of the shared-memory ring they arrived through rather than copies: they stay valid until
/// <see cref="Dispose"/>, which gives that ring space back to the worker. Dispose as soon as the outputs are used (written
/// out, compared, copied); a caller that keeps a tensor longer clones it first. Until then the worker's ring has that
/// much less room: the coordinator keeps results in a ring only while half of it stays free and copies the others
/// out, so a caller holding a few batches costs copies, but a result never disposed holds the ring's writer back for
/// good once it comes round to it (its messages then wait the read timeout and fail, and the worker is failed over).
/// </summary>
public sealed class DeploymentOutputs : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly IReadOnlyDictionary<string, Tensor> _outputs;

    internal DeploymentOutputs(IReadOnlyDictionary<string, Tensor> outputs) => _outputs = outputs;

    public Tensor this[string key] => _outputs[key];

    public IEnumerable<string> Keys => _outputs.Keys;

    public IEnumerable<Tensor> Values => _outputs.Values;

    public int Count => _outputs.Count;

    /// <summary>Whether any output is a view of a shared-memory ring (given back by <see cref="Dispose"/>).</summary>
    public bool InRing => _outputs.Values.Any(t => t.StorageOwner is RingLease);

    public bool ContainsKey(string key) => _outputs.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _outputs.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _outputs.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Gives the ring space of the outputs kept there back; their tensors must not be read afterwards.</summary>
    public void Dispose() => RingLease.GiveBack(_outputs.Values);
}
