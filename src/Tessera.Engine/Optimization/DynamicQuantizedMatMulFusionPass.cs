using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// The dynamic quantization chain (as ONNX Runtime's quantize_dynamic and `tessera quantize` write it):
/// DynamicQuantizeLinear(x) → MatMulInteger(x_q, constant W, x_zero_point, w_zero_point) → Cast(float) →
/// Mul(·, Mul(x_scale, constant w_scale)) [→ Add(constant bias)] → com.tessera QuantizedMatMul(x, dynamic=1), which
/// finds x's range, quantizes x while packing it and dequantizes (plus bias) in the GEMM's epilogue. When B is an
/// activation with a DynamicQuantizeLinear of its own (attention's Q·Kᵀ and P·V, scales Mul(x_scale, b_scale)), the
/// QuantizedMatMul reads the float B and quantizes it as well. A DynamicQuantizeLinear stays while other products
/// read it.
/// </summary>
internal sealed class DynamicQuantizedMatMulFusionPass : IGraphPass
{
    public string Name => "dynamic-quantized-matmul-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        if (!graph.Registry.Supports(TesseraDomain.Name, "QuantizedMatMul", TesseraDomain.Version)) return false;
        bool changed = false;
        foreach (var product in graph.Nodes.ToList())
        {
            if (!graph.IsLive(product) || !GraphEditor.IsOp(product, "MatMulInteger") || product.Inputs.Count < 3) continue;
            if (graph.Producer(product.Inputs[0]) is not { } dql || !GraphEditor.IsOp(dql, "DynamicQuantizeLinear") || dql.Outputs.Count < 3) continue;
            if (dql.Outputs[0] != product.Inputs[0] || dql.Outputs[2] != product.Inputs[2]) continue;
            if (graph.SoleConsumer(product.Outputs[0]) is not { } cast || !GraphEditor.IsOp(cast, "Cast")
                || !cast.Attributes.TryGetValue("to", out var to) || to.Int != (long)DataType.Float32) continue;
            if (graph.SoleConsumer(cast.Outputs[0]) is not { } mul || !GraphEditor.IsOp(mul, "Mul")) continue;
            if (GraphEditor.OtherInput(mul, cast.Outputs[0]) is not { } scales) continue;
            if (ActivationOperand(graph, product, scales, dql.Outputs[1]) is { } activation)
            {
                // B is an activation quantized by its own DynamicQuantizeLinear: both operands quantized in the kernel.
                var both = GraphEditor.NewNode("QuantizedMatMul", TesseraDomain.Name, product.Name, [dql.Inputs[0], string.Empty, string.Empty, activation], [mul.Outputs[0]]);
                Fuse(graph, both, [product, cast, mul], $"{dql} → {product} ← {graph.Producer(product.Inputs[1])} → {cast} → {mul} → QuantizedMatMul", ref changed);
                continue;
            }

            if (graph.Constant(product.Inputs[1]) is not { Rank: 2 } weight) continue;
            string weightZero = product.Inputs.Count > 3 ? product.Inputs[3] : string.Empty;
            if (weightZero.Length > 0 && graph.Constant(weightZero) is null) continue;
            if (WeightScale(graph, scales, dql.Outputs[1]) is not { } weightScale) continue;

            int n = weight.Shape[1];
            var removed = new List<OnnxNode> { product, cast, mul };
            string output = mul.Outputs[0];
            string bias = string.Empty;
            if (graph.SoleConsumer(output) is { } add && GraphEditor.IsOp(add, "Add") && GraphEditor.OtherInput(add, output) is { } c
                && graph.Constant(c) is { DataType: DataType.Float32 } addend && addend.Length == n && addend.Shape[^1] == n
                && (addend.Rank == 1 || addend.Rank <= (graph.Rank(output) ?? graph.Rank(dql.Inputs[0]) ?? 0)))
            {
                bias = addend.Rank == 1 ? c : graph.AddInitializer(c, addend.Reshape([n]));
                removed.Add(add);
                output = add.Outputs[0];
            }

            var fused = GraphEditor.NewNode("QuantizedMatMul", TesseraDomain.Name, product.Name,
                [dql.Inputs[0], string.Empty, string.Empty, product.Inputs[1], weightScale, weightZero, bias], [output]);
            Fuse(graph, fused, removed, $"{dql} → {product} → {cast} → {mul}{(removed.Count > 3 ? " + bias" : string.Empty)} → QuantizedMatMul", ref changed);
        }

        return changed;
    }

    private static void Fuse(GraphEditor graph, OnnxNode fused, List<OnnxNode> removed, string log, ref bool changed)
    {
        fused.Attributes["dynamic"] = new NodeAttribute { Name = "dynamic", Kind = AttributeKind.Int, Int = 1 };
        graph.UseTesseraDomain();
        if (!graph.CanRun(fused)) return;
        graph.Replace(removed, fused);
        graph.Log(log);
        changed = true;
    }

    // B quantized by a DynamicQuantizeLinear of its own (zero point included) and scales Mul(x_scale, b_scale) in
    // either order: returns the float activation B quantizes.
    private static string? ActivationOperand(GraphEditor graph, OnnxNode product, string scales, string activationScale)
    {
        if (product.Inputs.Count < 4 || graph.Producer(product.Inputs[1]) is not { } dql || !GraphEditor.IsOp(dql, "DynamicQuantizeLinear")
            || dql.Outputs.Count < 3 || dql.Outputs[0] != product.Inputs[1] || dql.Outputs[2] != product.Inputs[3]) return null;
        if (graph.Producer(scales) is not { } mul || !GraphEditor.IsOp(mul, "Mul") || GraphEditor.OtherInput(mul, activationScale) != dql.Outputs[1]) return null;
        return dql.Inputs[0];
    }

    // The product's scales: Mul(x_scale, constant w_scale) in either order; returns w_scale's name.
    private static string? WeightScale(GraphEditor graph, string scales, string activationScale)
    {
        if (graph.Producer(scales) is not { } mul || !GraphEditor.IsOp(mul, "Mul")) return null;
        if (GraphEditor.OtherInput(mul, activationScale) is not { } w) return null;
        return graph.Constant(w) is { DataType: DataType.Float32, Rank: <= 1 } ? w : null;
    }
}
