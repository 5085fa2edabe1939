namespace Tessera.Cluster.Deployments;

/// <summary>How a deployment cuts batches and how long a request waits for a placement.</summary>
public sealed record DeploymentOptions
{
    /// <summary>Micro-batches per pipeline stage by default: two keep every stage busy while the next one travels.</summary>
    public const int DefaultMicroBatchesPerStage = 2;

    /// <summary>
    /// Most micro-batches a placement's share of a batch is cut into per stage that works concurrently (at most one
    /// per row); 1 sends each share whole.
    /// </summary>
    public int MicroBatchesPerStage { get; init; } = DefaultMicroBatchesPerStage;

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
