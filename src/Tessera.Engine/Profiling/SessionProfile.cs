namespace Tessera.Engine.Profiling;

/// <summary>
/// Where the time of a session's runs went, per node of the optimised graph (fused nodes appear under their fused
/// operator). Wall time per step: with several intra-op threads it is the time until the step's last thread finished.
/// </summary>
public sealed class SessionProfile(int runs, IReadOnlyList<NodeTiming> nodes)
{
    /// <summary>Runs covered by the profile.</summary>
    public int Runs { get; } = runs;

    /// <summary>One entry per executed node, in execution order.</summary>
    public IReadOnlyList<NodeTiming> Nodes { get; } = nodes;

    public double TotalMs => Nodes.Sum(n => n.TotalMs);

    /// <summary>Per operator type: its node count and total time, slowest first.</summary>
    public IReadOnlyList<(string OpType, int Nodes, double TotalMs)> ByOperator() =>
        Nodes.GroupBy(n => n.OpType, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(), g.Sum(n => n.TotalMs)))
            .OrderByDescending(g => g.Item3)
            .ToArray();

    /// <summary>The <paramref name="count"/> slowest nodes, slowest first.</summary>
    public IReadOnlyList<NodeTiming> Slowest(int count) =>
        Nodes.OrderByDescending(n => n.TotalMs).Take(count).ToArray();
}
