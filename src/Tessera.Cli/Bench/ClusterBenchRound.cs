namespace Tessera.Cli.Bench;

/// <summary>One round of `tessera bench-cluster`: the single process, the distributed run and (for pipelines) each stage alone, back to back.</summary>
internal sealed record ClusterBenchRound(ClusterBenchRow Single, ClusterBenchRow Distributed, IReadOnlyList<ClusterBenchRow> Stages);
