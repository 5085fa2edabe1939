namespace Tessera.Partitioning.TensorParallel;

/// <summary>A MatMul/Gemm with a constant weight that every rank keeps whole, and why it was not split.</summary>
public sealed record ReplicatedLayer(string NodeName, string Reason);
