using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Layer normalization over the last axis as exporters before opset 17 spell it — d = x - ReduceMean(x);
/// d / Sqrt(ReduceMean(d²) + ε) · γ + β, with d² as Pow(d, 2) or d·d — → LayerNormalization(x, γ, β): the
/// standard operator from opset 17, com.tessera's before. γ and β must be float32 constants of one axis.
/// </summary>
internal sealed class LayerNormFusionPass : IGraphPass
{
    public string Name => "layernorm-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var root in graph.Nodes.ToList())
        {
            if (!graph.IsLive(root) || !GraphEditor.IsOp(root, "Add") || root.Inputs.Count != 2) continue;
            if (Match(graph, root) is not var (x, gamma, beta, epsilon, matched) || !graph.IsSelfContained(matched, root)) continue;

            bool standard = graph.Model.DefaultOpset >= 17;
            var norm = GraphEditor.NewNode("LayerNormalization", standard ? string.Empty : TesseraDomain.Name, root.Name, [x, gamma, beta], [root.Outputs[0]]);
            norm.Attributes["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = -1 };
            norm.Attributes["epsilon"] = new NodeAttribute { Name = "epsilon", Kind = AttributeKind.Float, Float = epsilon };
            if (!graph.CanRun(norm)) continue;
            if (!standard) graph.UseTesseraDomain();
            graph.Replace(matched, norm);
            graph.Log($"{matched.Count} nodes from {root} → LayerNormalization");
            changed = true;
        }

        return changed;
    }

    private static (string X, string Gamma, string Beta, float Epsilon, List<OnnxNode> Matched)? Match(GraphEditor graph, OnnxNode root)
    {
        for (int i = 0; i < 2; i++)
        {
            string beta = root.Inputs[1 - i];
            if (!IsVector(graph, beta, out int n) || graph.Producer(root.Inputs[i]) is not { } scale || !GraphEditor.IsOp(scale, "Mul")) continue;
            for (int j = 0; j < 2; j++)
            {
                string gamma = scale.Inputs[1 - j];
                if (!IsVector(graph, gamma, out int m) || m != n) continue;
                if (graph.Producer(scale.Inputs[j]) is not { } div || !GraphEditor.IsOp(div, "Div")) continue;
                if (MatchNormalized(graph, div) is { } found)
                {
                    found.Matched.AddRange([root, scale]);
                    return (found.X, gamma, beta, found.Epsilon, found.Matched);
                }
            }
        }

        return null;
    }

    // div = (x - mean(x)) / sqrt(mean((x - mean(x))²) + ε)
    private static (string X, float Epsilon, List<OnnxNode> Matched)? MatchNormalized(GraphEditor graph, OnnxNode div)
    {
        if (graph.Producer(div.Inputs[0]) is not { } sub || !GraphEditor.IsOp(sub, "Sub")) return null;
        if (graph.Producer(div.Inputs[1]) is not { } sqrt || !GraphEditor.IsOp(sqrt, "Sqrt")) return null;
        if (graph.Producer(sqrt.Inputs[0]) is not { } addEps || !GraphEditor.IsOp(addEps, "Add")) return null;
        string x = sub.Inputs[0], d = sub.Outputs[0];
        if (graph.Producer(sub.Inputs[1]) is not { } mean || !IsLastAxisMean(graph, mean, x)) return null;

        int varianceAt = graph.TryScalar(addEps.Inputs[1], out float epsilon) ? 0 : graph.TryScalar(addEps.Inputs[0], out epsilon) ? 1 : -1;
        if (varianceAt < 0 || graph.Producer(addEps.Inputs[varianceAt]) is not { } variance) return null;
        if (graph.Producer(variance.Inputs[0]) is not { } square || !IsLastAxisMean(graph, variance, square.Outputs[0])) return null;
        bool squares = (GraphEditor.IsOp(square, "Pow") && square.Inputs[0] == d && graph.IsScalar(square.Inputs[1], 2))
            || (GraphEditor.IsOp(square, "Mul") && square.Inputs.Count == 2 && square.Inputs[0] == d && square.Inputs[1] == d);
        if (!squares || graph.ElementType(x) is not (DataType.Float32 or DataType.Undefined)) return null;
        return (x, epsilon, [mean, sub, square, variance, addEps, sqrt, div]);
    }

    private static bool IsLastAxisMean(GraphEditor graph, OnnxNode node, string input)
    {
        if (!GraphEditor.IsOp(node, "ReduceMean") || node.Inputs[0] != input) return false;
        if (node.Attributes.TryGetValue("keepdims", out var keep) && keep.Int == 0) return false;
        long[]? axes = node.Attributes.TryGetValue("axes", out var a) ? a.Ints
            : node.Inputs.Count > 1 && graph.Constant(node.Inputs[1]) is { DataType: DataType.Int64 } t ? t.ToArray<long>() : null;
        if (axes is not [long axis]) return false;
        return axis == -1 || (graph.Rank(input) is int rank && axis == rank - 1);
    }

    private static bool IsVector(GraphEditor graph, string value, out int length)
    {
        length = 0;
        if (graph.Constant(value) is not { DataType: DataType.Float32, Rank: 1 } t) return false;
        length = t.Length;
        return true;
    }
}
