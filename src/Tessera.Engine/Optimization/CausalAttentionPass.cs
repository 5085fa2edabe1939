using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine.Optimization;

/// <summary>
/// An int8 attention under a causal mask: Q·Kᵀ (a dynamic QuantizedMatMul of two activations) → FusedScaleMaskSoftmax
/// (S, M) → P·V (the same kind of product, reading P as X), where M is the additive mask the scale-mask-softmax pass
/// made from a decoder's Where(Slice(tril), S, lowest), or another Where, or a constant. Q·Kᵀ gets M and the softmax's
/// scale (input 9, attribute mask_scale) and writes each row's kept length (output 1), which the softmax (input 2) and
/// P·V (input 10) read: Q·Kᵀ skips the tiles above the diagonal, the softmax reads only the kept columns, P·V's K loop
/// stops at each row tile's last. Whether M is causal, and the skip exact, is decided by Q·Kᵀ at run time from M and
/// the operands' scales (see Kernels' MaskedTail); otherwise every row keeps all its columns and the three run whole.
/// </summary>
internal sealed class CausalAttentionPass : IGraphPass
{
    private const string Product = "QuantizedMatMul";

    public string Name => "causal-attention";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var softmax in graph.Nodes.ToList())
        {
            if (!graph.IsLive(softmax) || softmax.Domain != TesseraDomain.Name || softmax.OpType != "FusedScaleMaskSoftmax") continue;
            if (softmax.Inputs.Count != 2 || softmax.Inputs[1].Length == 0 || !MaybeCausal(graph, softmax.Inputs[1])) continue;
            if (graph.Producer(softmax.Inputs[0]) is not { } scores || !IsActivationProduct(graph, scores) || scores.Outputs.Count != 1) continue;
            if (scores.Attributes.ContainsKey("activation") || scores.Inputs.Count > 9 || !graph.OnlyFeeds(scores.Outputs[0], [softmax])) continue;
            if (graph.SoleConsumer(softmax.Outputs[0]) is not { } values || !IsActivationProduct(graph, values) || values.Inputs[0] != softmax.Outputs[0]) continue;
            // Input 10 free (softmax-range-fusion may have given P·V input 11, its rows' factors, already).
            if (values.Inputs.Count > 10 && values.Inputs[10].Length > 0) continue;

            string kept = graph.UniqueName(scores.Outputs[0] + "_kept");
            var skipping = ModelCopy.Node(scores);
            Pad(skipping.Inputs, 9);
            skipping.Inputs.Add(softmax.Inputs[1]);
            skipping.Outputs.Add(kept);
            float scale = softmax.Attributes.TryGetValue("scale", out var s) ? s.Float : 1f;
            skipping.Attributes["mask_scale"] = new NodeAttribute { Name = "mask_scale", Kind = AttributeKind.Float, Float = scale };

            var reading = ModelCopy.Node(softmax);
            reading.Inputs.Add(kept);
            var stopping = ModelCopy.Node(values);
            Pad(stopping.Inputs, 11);
            stopping.Inputs[10] = kept;
            if (!graph.CanRun(skipping) || !graph.CanRun(reading) || !graph.CanRun(stopping)) continue;

            // Q·Kᵀ now reads the mask, whose node may come after it (the scale-mask-softmax pass puts its additive
            // mask just before the softmax): it moves to just before the softmax, after everything either reads.
            graph.Replace([scores], null);
            graph.Replace([softmax], reading);
            graph.Nodes.Insert(graph.Nodes.IndexOf(reading), skipping);
            graph.Invalidate();
            graph.Replace([values], stopping);
            graph.Log($"{scores} → {softmax} → {values}: kept lengths from the mask");
            changed = true;
        }

        return changed;
    }

    // A dynamic QuantizedMatMul whose W is an activation (QuantizedActivationsMatMulKernel).
    private static bool IsActivationProduct(GraphEditor graph, OnnxNode node) =>
        node.Domain == TesseraDomain.Name && node.OpType == Product && node.Inputs.Count >= 4
        && node.Attributes.TryGetValue("dynamic", out var dynamic) && dynamic.Int == 1 && graph.Constant(node.Inputs[3]) is null;

    // A mask that can be causal: a Where (the decoder's, or the additive mask the softmax fusion made of it) or a
    // constant. A padding mask computed from an input (BERT's Mul by -10000) is left alone.
    private static bool MaybeCausal(GraphEditor graph, string mask) =>
        graph.Constant(mask) is not null || GraphEditor.IsOp(graph.Producer(mask), "Where");

    private static void Pad(List<string> inputs, int count)
    {
        while (inputs.Count < count) inputs.Add(string.Empty);
    }
}
