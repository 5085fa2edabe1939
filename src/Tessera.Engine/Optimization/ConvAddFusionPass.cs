using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Conv (or a FusedConv without activation) whose only reader is an Add of a value of exactly the output's shape (a
/// residual branch) → com.tessera FusedConv with that value as its fourth input "sum", so the sum is added while the
/// convolution writes its output instead of in another pass over memory. Runs before activation fusion, which then
/// folds a following Relu into the same node: Y = act(conv + bias + sum).
/// </summary>
internal sealed class ConvAddFusionPass : IGraphPass
{
    public string Name => "conv-add-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || !IsPlainConv(node) || node.Outputs.Count != 1) continue;
            string output = node.Outputs[0];
            if (graph.ElementType(output) != DataType.Float32 && graph.ElementType(node.Inputs[0]) != DataType.Float32) continue;
            if (!GraphEditor.IsOp(graph.SoleConsumer(output), "Add")) continue;
            var add = graph.SoleConsumer(output)!;
            if (GraphEditor.OtherInput(add, output) is not { } sum || sum == output || !SameKnownShape(graph, sum, output)) continue;
            if (!graph.Registry.Supports(TesseraDomain.Name, "FusedConv", TesseraDomain.Version)) continue;

            var fused = ModelCopy.Node(node);
            fused.OpType = "FusedConv";
            fused.Domain = TesseraDomain.Name;
            while (fused.Inputs.Count < 3) fused.Inputs.Add(string.Empty);
            fused.Inputs.Add(sum);
            fused.Outputs[0] = add.Outputs[0];
            graph.UseTesseraDomain();
            if (!graph.CanRun(fused)) continue;

            graph.Replace([node, add], fused);
            graph.Log($"{node} + {add} → FusedConv with sum '{sum}'");
            changed = true;
        }

        return changed;
    }

    private static bool IsPlainConv(OnnxNode node) =>
        node.Inputs.Count is 2 or 3 && (GraphEditor.IsOp(node, "Conv")
            || (node.Domain == TesseraDomain.Name && node.OpType == "FusedConv" && !node.Attributes.ContainsKey("activation")));

    // Add broadcasts; the fused kernel adds element by element, so both shapes must be the same and fully known.
    private static bool SameKnownShape(GraphEditor graph, string a, string b)
    {
        var sa = graph.Shape(a);
        var sb = graph.Shape(b);
        if (sa is null || sb is null || sa.Length != sb.Length) return false;
        for (int d = 0; d < sa.Length; d++)
        {
            if (!sa[d].Equals(sb[d]) || (sa[d].Value is null && string.IsNullOrEmpty(sa[d].Symbol))) return false;
        }

        return true;
    }
}
