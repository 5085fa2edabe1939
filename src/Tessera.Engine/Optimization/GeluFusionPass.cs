using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// The two GELU formulas exporters spell out, in any order of their products → com.tessera Gelu (the standard
/// operator from opset 20): x·0.5·(1 + erf(x/√2)) gives approximate = "none", and
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with x³ as Pow(x, 3) or x·x·x, gives approximate = "tanh".
/// </summary>
internal sealed class GeluFusionPass : IGraphPass
{
    private static readonly double s_invSqrt2 = 1 / Math.Sqrt(2);
    private static readonly double s_sqrt2OverPi = Math.Sqrt(2 / Math.PI);

    public string Name => "gelu-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var root in graph.Nodes.ToList())
        {
            if (!graph.IsLive(root) || Product.Of(graph, root) is not { Factors.Count: 2 } product) continue;
            foreach (string x in product.Factors.Distinct().ToList())
            {
                var matched = new List<OnnxNode>(product.Nodes);
                if (Math.Abs(product.Scale - 0.5) > 1e-6 || product.OtherFactor(x) is not { } onePlus) continue;
                if (MatchOnePlus(graph, onePlus, x, matched) is not { } approximate || !graph.IsSelfContained(matched, root)) continue;

                bool standard = graph.Model.DefaultOpset >= 20;
                var gelu = GraphEditor.NewNode("Gelu", standard ? string.Empty : TesseraDomain.Name, root.Name, [x], [root.Outputs[0]]);
                gelu.Attributes["approximate"] = new NodeAttribute { Name = "approximate", Kind = AttributeKind.String, String = approximate };
                if (!graph.CanRun(gelu)) continue;
                if (!standard) graph.UseTesseraDomain();
                graph.Replace(matched, gelu);
                graph.Log($"{matched.Count} nodes from {root} → Gelu({approximate})");
                changed = true;
                break;
            }
        }

        return changed;
    }

    /// <summary>Matches 1 + erf(…) or 1 + tanh(…) of <paramref name="x"/>; returns the approximation it amounts to.</summary>
    private static string? MatchOnePlus(GraphEditor graph, string value, string x, List<OnnxNode> matched)
    {
        if (graph.Producer(value) is not { } add || !GraphEditor.IsOp(add, "Add")) return null;
        string? inner = graph.IsScalar(add.Inputs[0], 1) ? add.Inputs[1] : graph.IsScalar(add.Inputs[1], 1) ? add.Inputs[0] : null;
        if (inner is null || graph.Producer(inner) is not { } function || graph.Producer(function.Inputs[0]) is not { } argument) return null;
        if (Product.Of(graph, argument) is not { } scaled) return null;
        matched.AddRange([add, function]);
        matched.AddRange(scaled.Nodes);

        if (GraphEditor.IsOp(function, "Erf")) return scaled.Is(s_invSqrt2, x) ? "none" : null;
        if (!GraphEditor.IsOp(function, "Tanh") || Math.Abs(scaled.Scale - s_sqrt2OverPi) > 1e-4 || scaled.Factors.Count != 1) return null;

        // x + 0.044715·x³
        if (graph.Producer(scaled.Factors[0]) is not { } sum || !GraphEditor.IsOp(sum, "Add")) return null;
        if (GraphEditor.OtherInput(sum, x) is not { } cubicTerm || graph.Producer(cubicTerm) is not { } cubicRoot) return null;
        if (Product.Of(graph, cubicRoot) is not { } cubic || Math.Abs(cubic.Scale - 0.044715) > 1e-5) return null;
        matched.Add(sum);
        matched.AddRange(cubic.Nodes);
        if (cubic.Is(0.044715, x, x, x)) return "tanh";
        if (cubic.Factors is not [var cube] || graph.Producer(cube) is not { } pow || !GraphEditor.IsOp(pow, "Pow")) return null;
        if (pow.Inputs[0] != x || !graph.IsScalar(pow.Inputs[1], 3)) return null;
        matched.Add(pow);
        return "tanh";
    }
}
