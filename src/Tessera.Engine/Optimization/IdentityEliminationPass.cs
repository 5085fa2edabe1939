using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Removes Identity, and Dropout in inference mode, by making their readers read the input. When the output is a
/// graph output, the input's producer is made to write the graph output's name instead, so outputs keep their names.
/// </summary>
internal sealed class IdentityEliminationPass : IGraphPass
{
    public string Name => "identity-elimination";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.Basic;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || !IsNoOp(graph, node)) continue;
            string x = node.Inputs[0], y = node.Outputs[0];
            if (!graph.IsPinned(y))
            {
                graph.Remove(node);
                graph.RenameUses(y, x);
            }
            else if (graph.Producer(x) is { } producer && !graph.IsPinned(x) && !graph.Graph.Initializers.ContainsKey(x))
            {
                graph.Remove(node);
                producer.Outputs[producer.Outputs.IndexOf(x)] = y;
                graph.Invalidate();
                graph.RenameUses(x, y);
            }
            else
            {
                continue;
            }

            graph.Log($"removed {node} ({y} → {x})");
            changed = true;
        }

        return changed;
    }

    private static bool IsNoOp(GraphEditor graph, OnnxNode node)
    {
        if (node.Inputs.Count == 0 || node.Inputs[0].Length == 0 || node.Outputs.Count == 0 || node.Outputs[0].Length == 0) return false;
        if (GraphEditor.IsOp(node, "Identity")) return true;
        if (!GraphEditor.IsOp(node, "Dropout")) return false;

        // The mask must be unread, and training mode (opset 12 on) absent or a constant false.
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0 && (graph.IsPinned(node.Outputs[1]) || graph.Consumers(node.Outputs[1]).Count > 0)) return false;
        if (node.Inputs.Count < 3 || node.Inputs[2].Length == 0) return true;
        return graph.Constant(node.Inputs[2]) is { Length: 1 } t && t.Bytes.ToArray().All(b => b == 0);
    }
}
