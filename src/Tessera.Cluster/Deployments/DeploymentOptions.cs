namespace Tessera.Cluster.Deployments;

/// <summary>How a deployment cuts batches and how long a request waits for a placement.</summary>
public sealed record DeploymentOptions
{
    /// <summary>Micro-batches per pipeline stage before the stages' costs are measured: two keep every stage busy while the next one travels.</summary>
    public const int DefaultMicroBatchesPerStage = 2;

    /// <summary>Most micro-batches per stage the measured costs may choose.</summary>
    public const int MaxMicroBatchesPerStage = 4;

    /// <summary>
    /// Micro-batches a placement's share of a batch is cut into per stage that works concurrently (at most one per row;
    /// 1 sends each share whole); null (the default) chooses count and sizes from the stages' measured cost per run at
    /// each batch size against the pipeline's bubble (<see cref="Partitioning.Pipeline.MicroBatchSchedule"/>).
    /// </summary>
    public int? MicroBatchesPerStage { get; init; }

    /// <summary>
    /// What a micro-batch costs each stage beyond its compute (frames, a wake-up, the coordinator's share), which the
    /// choice of micro-batch count weighs against a smaller bubble.
    /// </summary>
    public TimeSpan MicroBatchOverhead { get; init; } = TimeSpan.FromMilliseconds(0.1);

    /// <summary>
    /// How long a request that finds no placement up waits for one (a worker coming back, a re-placement) before it
    /// fails; zero fails at once.
    /// </summary>
    public TimeSpan PlacementWait { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// How long a worker of the placements may be down before the deployment places itself again without it (over the
    /// members that are up); only deployments started with a <see cref="Replacement"/> do.
    /// </summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An elastic deployment's defaults: plan around a worker down for <paramref name="grace"/>; requests wait for a placement meanwhile.</summary>
    public static DeploymentOptions Elastic(TimeSpan grace) => new() { Grace = grace, PlacementWait = grace + TimeSpan.FromSeconds(10) };
}
