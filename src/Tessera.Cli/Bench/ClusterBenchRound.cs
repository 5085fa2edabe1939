namespace Tessera.Cli.Bench;

/// <summary>
/// One round of `tessera bench-cluster`: the single process, the distributed run, (for pipelines) each stage alone, and
/// single sessions side by side on every core, back to back.
/// </summary>
internal sealed record ClusterBenchRound(ClusterBenchRow Single, ClusterBenchRow Distributed, IReadOnlyList<ClusterBenchRow> Stages, ClusterBenchRow SideBySide);
