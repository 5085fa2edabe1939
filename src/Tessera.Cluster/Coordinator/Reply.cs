using Tessera.Cluster.Transport;
using Tessera.Tensors;

namespace Tessera.Cluster.Coordinator;

/// <summary>A worker's answer to one request: the frame, and for a RESULT the tensors that followed it (owned by the receiver).</summary>
public sealed record Reply(Frame Frame, IReadOnlyDictionary<string, Tensor> Tensors);
