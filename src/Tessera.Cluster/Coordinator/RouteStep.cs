namespace Tessera.Cluster.Coordinator;

/// <summary>One stage of a route: the worker that runs it, the model's hash, and the tensor names the stage reads.</summary>
public sealed record RouteStep(WorkerClient Worker, byte[] ModelHash, IReadOnlyList<string> Inputs);
