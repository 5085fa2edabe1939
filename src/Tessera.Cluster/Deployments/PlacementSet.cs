using Tessera.Partitioning.Plans;

namespace Tessera.Cluster.Deployments;

/// <summary>
/// The placements of a deployment at one time, with the plan they follow (none for whole-model replicas) and what
/// they own: sessions in this process, a plan folder written for them. Disposed when the deployment replaces them
/// or ends.
/// </summary>
public sealed class PlacementSet(IReadOnlyList<Placement> placements, PlanDocument? plan = null, string? planDirectory = null, IReadOnlyList<IDisposable>? owned = null, bool ownsDirectory = false) : IDisposable
{
    public IReadOnlyList<Placement> Placements { get; } = placements;

    public PlanDocument? Plan { get; } = plan;

    /// <summary>The folder of the plan's sub-models; null without a plan.</summary>
    public string? PlanDirectory { get; } = planDirectory;

    public void Dispose()
    {
        foreach (var o in owned ?? []) o.Dispose();
        if (ownsDirectory && PlanDirectory is not null)
        {
            try
            {
                Directory.Delete(PlanDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public override string ToString() => string.Join(" | ", Placements.Select(p => p.ToString()));
}
