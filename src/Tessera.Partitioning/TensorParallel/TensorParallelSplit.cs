namespace Tessera.Partitioning.TensorParallel;

/// <summary>One split layer: its node, how it is split, the block it belongs to, and its weight before and on each rank ([K, N]).</summary>
public sealed record TensorParallelSplit(string NodeName, TensorParallelSplitKind Kind, int Block, int K, int N, int ShardK, int ShardN);
