using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// x·Clip(x + 3, 0, 6)/6 (Paddle's hard_swish as exported in PP-OCR, in any order of the product) and
/// x·HardSigmoid(x) with α = 1/6, β = 1/2 → HardSwish(x): the standard operator from opset 14, com.tessera's before.
/// </summary>
internal sealed class HardSwishFusionPass : IGraphPass
{
    public string Name => "hardswish-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var root in graph.Nodes.ToList())
        {
            if (!graph.IsLive(root) || Product.Of(graph, root) is not { Factors.Count: 2 } product) continue;
            foreach (string x in product.Factors.Distinct().ToList())
            {
                if (product.OtherFactor(x) is not { } gate || graph.Producer(gate) is not { } gateNode) continue;
                var matched = new List<OnnxNode>(product.Nodes) { gateNode };
                if (!IsGate(graph, gateNode, x, product.Scale, matched) || !graph.IsSelfContained(matched, root)) continue;

                bool standard = graph.Model.DefaultOpset >= 14;
                var hardSwish = GraphEditor.NewNode("HardSwish", standard ? string.Empty : TesseraDomain.Name, root.Name, [x], [root.Outputs[0]]);
                if (!graph.CanRun(hardSwish)) continue;
                if (!standard) graph.UseTesseraDomain();
                graph.Replace(matched, hardSwish);
                graph.Log($"{matched.Count} nodes from {root} → HardSwish");
                changed = true;
                break;
            }
        }

        return changed;
    }

    private static bool IsGate(GraphEditor graph, OnnxNode gate, string x, double scale, List<OnnxNode> matched)
    {
        if (GraphEditor.IsOp(gate, "HardSigmoid"))
        {
            return gate.Inputs[0] == x && Math.Abs(scale - 1) < 1e-6
                && FusedActivation.Of(graph, gate) is { Parameters: [var alpha, var beta] } && Near(alpha, 1 / 6.0) && Near(beta, 0.5);
        }

        if (!GraphEditor.IsOp(gate, "Clip") || !Near(scale, 1 / 6.0)) return false;
        if (FusedActivation.Of(graph, gate) is not { Parameters: [0f, 6f] }) return false;
        if (graph.Producer(gate.Inputs[0]) is not { } add || !GraphEditor.IsOp(add, "Add")) return false;
        if (GraphEditor.OtherInput(add, x) is not { } three || !graph.IsScalar(three, 3)) return false;
        matched.Add(add);
        return true;
    }

    private static bool Near(double value, double expected) => Math.Abs(value - expected) <= 1e-4 * Math.Abs(expected);
}
