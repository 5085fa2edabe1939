namespace Tessera.Cluster.Transport.Messages;

/// <summary>One stage of a request's route: the model (by SHA-256), the worker that runs it, and the tensors it reads.</summary>
public sealed record RouteStage(byte[] ModelHash, string Address, string[] Inputs);
