using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// A QuantizedMatMul of two activations (dynamic=1, W not constant: an int8 attention's Q·Kᵀ and P·V) whose X or W
/// is a rank-4 Transpose, or whose only reader is one → the product reads the Transpose's input through strides
/// (attribute x_perm / w_perm) or writes the transposed result itself (y_perm), and the Transpose copies go:
/// BERT's and GPT's heads are [b, s, h, d] → [b, h, s, d] for Q, K (→ [b, h, d, s]) and V, and the context back,
/// four copies per layer. Only the permutations the kernel reads and writes (<see cref="PermutedMatMulShape"/>) are
/// folded. The same values are quantized and summed, so the same bits.
/// </summary>
internal sealed class QuantizedMatMulTransposeFusionPass : IGraphPass
{
    private const int Rank = 4;

    public string Name => "quantized-matmul-transpose-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || product.Domain != TesseraDomain.Name || product.OpType != "QuantizedMatMul") continue;
            if (product.Inputs.Count < 4 || product.Outputs.Count != 1 || graph.Constant(product.Inputs[3]) is not null) continue;
            if (!product.Attributes.TryGetValue("dynamic", out var dynamic) || dynamic.Int != 1) continue;

            var fused = ModelCopy.Node(product);
            var removed = new List<OnnxNode> { product };
            var folded = new List<string>();
            if (!product.Attributes.ContainsKey("x_perm") && Perm(graph.Producer(product.Inputs[0])) is { } xt && PermutedMatMulShape.AcceptsRows(xt.Perm))
            {
                fused.Inputs[0] = xt.Node.Inputs[0];
                fused.Attributes["x_perm"] = Ints("x_perm", xt.Perm);
                folded.Add(xt.Node.ToString());
            }

            if (!product.Attributes.ContainsKey("w_perm") && Perm(graph.Producer(product.Inputs[3])) is { } wt && PermutedMatMulShape.AcceptsW(wt.Perm))
            {
                fused.Inputs[3] = wt.Node.Inputs[0];
                fused.Attributes["w_perm"] = Ints("w_perm", wt.Perm);
                folded.Add(wt.Node.ToString());
            }

            if (!product.Attributes.ContainsKey("y_perm") && !graph.IsPinned(product.Outputs[0])
                && Perm(graph.SoleConsumer(product.Outputs[0])) is { } yt && PermutedMatMulShape.AcceptsRows(yt.Perm))
            {
                fused.Outputs[0] = yt.Node.Outputs[0];
                fused.Attributes["y_perm"] = Ints("y_perm", yt.Perm);
                removed.Add(yt.Node);
                folded.Add(yt.Node.ToString());
            }

            if (folded.Count == 0 || !graph.CanRun(fused)) continue;
            graph.Replace(removed, fused);
            graph.Log($"{string.Join(", ", folded)} → {product}: read and written through strides");
            changed = true;
        }

        return changed;
    }

    // A Transpose with an explicit rank-4 perm (the default, all axes reversed, never keeps the last one).
    private static (OnnxNode Node, long[] Perm)? Perm(OnnxNode? node) =>
        GraphEditor.IsOp(node, "Transpose") && node!.Inputs.Count == 1 && node.Outputs.Count == 1
        && node.Attributes.TryGetValue("perm", out var perm) && perm.Ints.Length == Rank
            ? (node, perm.Ints)
            : null;

    private static NodeAttribute Ints(string name, long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = [.. values] };
}
