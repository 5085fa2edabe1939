namespace Tessera.Cluster.Transport.Messages;

/// <summary>One rank of a route stage: the model it runs (by SHA-256) and the worker that runs it.</summary>
public sealed record RouteRank(byte[] ModelHash, string Address);
