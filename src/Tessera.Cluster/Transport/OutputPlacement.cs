using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Chooses the storage a received tensor is read into, given its name, element type and shape (e.g. its rows of a
/// batch-sized tensor that several shards fill); null to take a fresh tensor instead.
/// </summary>
public delegate Tensor? OutputPlacement(string name, DataType dataType, int[] shape);
