namespace Tessera.Engine.Optimization;

/// <summary>Removes nodes none of whose outputs is read or is a graph output, such as the Constant nodes of folded weights.</summary>
internal sealed class DeadNodeEliminationPass : IGraphPass
{
    public string Name => "dead-node-elimination";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.Basic;

    public bool Apply(GraphEditor graph)
    {
        int removed = 0;

        // Backwards, so a chain that only fed removed nodes goes in the same sweep.
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            bool dead = node.Outputs.Any(o => o.Length > 0)
                && node.Outputs.All(o => o.Length == 0 || (!graph.IsPinned(o) && graph.Consumers(o).Count == 0));
            if (dead)
            {
                graph.Remove(node);
                removed++;
            }
        }

        if (removed > 0) graph.Log($"removed {removed} unused nodes");
        return removed > 0;
    }
}
