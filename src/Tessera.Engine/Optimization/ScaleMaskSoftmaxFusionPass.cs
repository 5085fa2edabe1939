using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Attention's score normalisation Softmax(Add(Div(S, c) | Mul(S, c), M)), and the forms without the mask or without
/// the scale → com.tessera FusedScaleMaskSoftmax(S, M?) with scale = 1/c or c, so the [b, heads, s, s] scores are
/// swept once instead of three times. A decoder's causal Softmax(Where(keep, Div(S, c), lowest)) fuses too, with the
/// additive mask Where(keep, 0, lowest) (an [s, s] node) in place of the [b, heads, s, s] Where. Fused only for float32, Softmax along the last axis and c a constant scalar; the
/// kernel broadcasts S and M as Add does, so M needs no known shape (exporters' reshaped scores often have none).
/// </summary>
internal sealed class ScaleMaskSoftmaxFusionPass : IGraphPass
{
    public string Name => "scale-mask-softmax-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var softmax in graph.Nodes.ToList())
        {
            if (!graph.IsLive(softmax) || !GraphEditor.IsOp(softmax, "Softmax") || !AlongLastAxis(graph, softmax)) continue;
            var matched = new List<OnnxNode> { softmax };
            string scores = softmax.Inputs[0];
            string? mask = null;
            if (graph.Producer(scores) is { } add && GraphEditor.IsOp(add, "Add") && add.Inputs.Count == 2 && add.Inputs[0] != add.Inputs[1])
            {
                // Add commutes, so either input may take the scale: S is the one a scaling node only the Add reads
                // produces (BERT's mask is itself a Mul by -10000, shared by every layer).
                int s = ScaledFor(graph, add, 0) ? 0 : ScaledFor(graph, add, 1) ? 1 : 0;
                matched.Add(add);
                (scores, mask) = (add.Inputs[s], add.Inputs[1 - s]);
            }

            // A causal mask as Where(keep, S', very negative): the same as S' + Where(keep, 0, very negative) once
            // normalised (a dropped score's weight is 0 either way), and that additive mask is one small [s, s] node.
            OnnxNode? additiveMask = null;
            if (mask is null && graph.Producer(scores) is { } where && IsMaskingWhere(graph, where))
            {
                matched.Add(where);
                scores = where.Inputs[1];
                mask = graph.UniqueName(where.Outputs[0] + "/additive_mask");
                additiveMask = GraphEditor.NewNode("Where", string.Empty, where.Name + "/additive_mask",
                    [where.Inputs[0], graph.AddInitializer(where.Name + "/zero", Tensor.Scalar(0f)), where.Inputs[2]], [mask]);
            }

            float scale = 1f;
            bool scaled = false;
            if (graph.Producer(scores) is { } scaling && ScaledInput(graph, scaling) is { } found)
            {
                matched.Add(scaling);
                (scores, scale) = found;
                scaled = true;
            }

            // Div, Mul and Add take one element type, so a float32 scale or mask makes S float32 too.
            bool float32 = scaled || additiveMask is not null || graph.ElementType(scores) == DataType.Float32 || (mask is not null && graph.ElementType(mask) == DataType.Float32);
            if (matched.Count == 1 || !float32 || !graph.IsSelfContained(matched, softmax)) continue;

            // A rank-1 scalar c lifts a rank-0 S to [1]; the fused node broadcasts only S and M, so S must not be a scalar.
            if (scaled && graph.Rank(scores) == 0) continue;

            var fused = GraphEditor.NewNode("FusedScaleMaskSoftmax", TesseraDomain.Name, softmax.Name,
                mask is null ? [scores] : [scores, mask], [softmax.Outputs[0]]);
            fused.Attributes["scale"] = new NodeAttribute { Name = "scale", Kind = AttributeKind.Float, Float = scale };
            if (!graph.CanRun(fused) || (additiveMask is not null && !graph.CanRun(additiveMask))) continue;
            graph.UseTesseraDomain();
            graph.Replace(matched, fused);
            if (additiveMask is not null)
            {
                // Its inputs come before the Where it stands for, which came before the Softmax the fused node replaced.
                graph.Nodes.Insert(graph.Nodes.IndexOf(fused), additiveMask);
                graph.Invalidate();
            }

            graph.Log($"{matched.Count} nodes from {softmax} → FusedScaleMaskSoftmax(scale {scale}{(mask is null ? string.Empty : ", mask")})");
            changed = true;
        }

        return changed;
    }

    // From opset 13 Softmax normalises one axis; before, it flattens everything from `axis` on. Both mean the last
    // axis alone for axis = -1 whatever the rank, and for axis = rank - 1.
    private static bool AlongLastAxis(GraphEditor graph, OnnxNode softmax)
    {
        if (softmax.Inputs.Count != 1) return false;
        long axis = softmax.Attributes.TryGetValue("axis", out var a) ? a.Int : graph.Model.DefaultOpset >= 13 ? -1 : 1;
        if (axis == -1) return true;
        return graph.Rank(softmax.Inputs[0]) is { } rank && rank > 0 && (axis == -1 || axis == rank - 1);
    }

    /// <summary>
    /// Where(keep, S, y) (keep is bool by the operator's definition) with y a float32 constant scalar of -inf or below -1e30 (exporters write
    /// float32's lowest, -3.4e38): S plus y is then as far below every kept score as y is, so its weight is 0 too.
    /// </summary>
    private static bool IsMaskingWhere(GraphEditor graph, OnnxNode where) =>
        GraphEditor.IsOp(where, "Where") && where.Inputs.Count == 3 && graph.ElementType(where.Inputs[2]) == DataType.Float32 && graph.TryScalar(where.Inputs[2], out float y) && y <= -1e30f;

    private static bool ScaledFor(GraphEditor graph, OnnxNode add, int input) =>
        graph.Producer(add.Inputs[input]) is { } p && ScaledInput(graph, p) is not null && graph.OnlyFeeds(add.Inputs[input], [add]);

    /// <summary>(S, scale) for Div(S, c), Mul(S, c) or Mul(c, S) with c a constant float32 scalar.</summary>
    private static (string Scores, float Scale)? ScaledInput(GraphEditor graph, OnnxNode node)
    {
        if (node.Inputs.Count != 2) return null;
        if (GraphEditor.IsOp(node, "Div") && graph.TryScalar(node.Inputs[1], out float c) && c != 0) return (node.Inputs[0], 1 / c);
        if (!GraphEditor.IsOp(node, "Mul")) return null;
        if (graph.TryScalar(node.Inputs[1], out c)) return (node.Inputs[0], c);
        if (graph.TryScalar(node.Inputs[0], out c)) return (node.Inputs[1], c);
        return null;
    }
}
