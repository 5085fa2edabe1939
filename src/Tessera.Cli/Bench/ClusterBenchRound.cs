namespace Tessera.Cli.Bench;

/// <summary>
/// One round of `tessera bench-cluster`: the single process, the distributed run, (for pipelines) each stage alone and
/// each stage beside itself, and single sessions side by side on every core, back to back.
/// </summary>
internal sealed record ClusterBenchRound(ClusterBenchRow Single, ClusterBenchRow Distributed, IReadOnlyList<ClusterBenchRow> Stages, ClusterBenchRow SideBySide)
{
    /// <summary>
    /// Each stage run by as many sessions at once as the machine has cores for (rows per second per session): the stage's
    /// rate while the other cores compute too, as they do in a full pipeline (empty for data parallel).
    /// </summary>
    public IReadOnlyList<ClusterBenchRow> StagesBeside { get; init; } = [];
}
