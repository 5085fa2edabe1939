namespace Tessera.Cluster.Coordinator;

/// <summary>A further rank of a tensor-parallel route step: the worker that runs it and its shard's hash.</summary>
public sealed record RouteShard(WorkerClient Worker, byte[] ModelHash);
