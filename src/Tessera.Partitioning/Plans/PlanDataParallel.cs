namespace Tessera.Partitioning.Plans;

/// <summary>How a request is split between replicas: the batch axis of every model input and output.</summary>
public sealed class PlanDataParallel
{
    public required int Replicas { get; init; }

    public required Dictionary<string, int> InputAxes { get; init; }

    public required Dictionary<string, int> OutputAxes { get; init; }
}
