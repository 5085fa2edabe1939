namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// One collective each rank runs per inference: <see cref="OpType"/> "AllReduce" or "AllGather", its <see cref="Key"/>
/// in the shards, the split layer it serves, and <see cref="Value"/>: the value of the original model with the
/// collective's full size (an AllReduce sums that many elements; an AllGather assembles them from T slices), so a
/// cost model can size the traffic with shape inference on the original model.
/// </summary>
public sealed record TensorParallelCollective(string OpType, string Key, string NodeName, string Value, int Block);
