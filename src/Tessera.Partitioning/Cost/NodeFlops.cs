using Tessera.Onnx.Graph;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// Floating-point operations of one node from its concrete input and output shapes: 2*M*N*K for matrix products (integer ones included),
/// 2 per multiply-accumulate of a convolution window, one per output element for everything else. Unknown shapes
/// give 0 (the analysis counts them separately).
/// </summary>
internal static class NodeFlops
{
    public static double Of(OnnxNode node, Func<string, int[]?> shapeOf)
    {
        int[]? In(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? shapeOf(node.Inputs[i]) : null;
        int[]? output = node.Outputs.Count > 0 && node.Outputs[0].Length > 0 ? shapeOf(node.Outputs[0]) : null;
        switch (node.OpType)
        {
            // The integer products (and the fused quantized ones) count their multiply-accumulates as the float ones do.
            case "MatMul" or "FusedMatMul" or "MatMulInteger" or "QLinearMatMul" or "QuantizedMatMul":
            {
                // A QuantizedMatMul over several weights side by side has an output per weight: all of them count.
                var a = In(0);
                double elements = 0;
                // (A causal attention's Q·Kᵀ, reading the mask as input 9, has one product; its output 1 is the kept lengths.)
                bool causal = node.Inputs.Count > 9 && node.Inputs[9].Length > 0;
                foreach (string name in node.Outputs.Take(node.OpType == "QuantizedMatMul" && !causal ? node.Outputs.Count : 1))
                {
                    if (name.Length == 0 || shapeOf(name) is not { } shape) return 0;
                    elements += Elements(shape);
                }

                return a is { Length: > 0 } ? 2.0 * elements * a[^1] : 0;
            }

            case "Gemm" or "FusedGemm":
            {
                var a = In(0);
                bool transA = node.Attributes.TryGetValue("transA", out var t) && t.Int != 0;
                return a is { Length: 2 } && output is not null ? 2.0 * Elements(output) * (transA ? a[0] : a[1]) : 0;
            }

            case "Conv" or "FusedConv" or "ConvInteger" or "QLinearConv" or "QuantizedConv":
            {
                var w = In(node.OpType is "QLinearConv" or "QuantizedConv" ? 3 : 1);
                return w is { Length: >= 2 } && output is not null ? 2.0 * Elements(output) * Elements(w.AsSpan(1)) : 0;
            }

            case "ConvTranspose":
            {
                var x = In(0);
                var w = In(1);
                return x is not null && w is { Length: >= 2 } ? 2.0 * Elements(x) * Elements(w.AsSpan(1)) : 0;
            }

            default:
                return output is not null ? Elements(output) : 0;
        }
    }

    private static double Elements(ReadOnlySpan<int> shape)
    {
        double n = 1;
        foreach (int d in shape)
        {
            n *= d;
        }

        return n;
    }
}
