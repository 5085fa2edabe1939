using Tessera.Onnx.Graph;

namespace Tessera.Engine;

/// <summary>Orders nodes so every value is produced before it is read (Kahn's algorithm, stable for sorted input).</summary>
internal static class TopologicalOrder
{
    public static List<OnnxNode> Sort(OnnxGraph graph)
    {
        var available = new HashSet<string>(StringComparer.Ordinal) { string.Empty };
        available.UnionWith(graph.Inputs.Select(i => i.Name));
        available.UnionWith(graph.Initializers.Keys);

        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var output in node.Outputs.Where(o => o.Length > 0))
            {
                if (!producers.TryAdd(output, node) || available.Contains(output))
                {
                    throw new InferenceException($"value '{output}' is produced twice (by node '{node.DisplayName}')");
                }
            }
        }

        var pending = new List<OnnxNode>(graph.Nodes);
        var order = new List<OnnxNode>(graph.Nodes.Count);
        while (pending.Count > 0)
        {
            int before = order.Count;
            var next = new List<OnnxNode>();
            foreach (var node in pending)
            {
                if (node.Inputs.All(available.Contains))
                {
                    order.Add(node);
                    available.UnionWith(node.Outputs);
                }
                else
                {
                    next.Add(node);
                }
            }

            if (order.Count == before)
            {
                var stuck = next[0];
                string missing = stuck.Inputs.First(i => !available.Contains(i));
                throw new InferenceException(producers.ContainsKey(missing)
                    ? $"the graph has a cycle through node '{stuck.DisplayName}' ({stuck.OpType})"
                    : $"node '{stuck.DisplayName}' ({stuck.OpType}) reads '{missing}', which no node, input or initializer provides");
            }

            pending = next;
        }

        return order;
    }
}
