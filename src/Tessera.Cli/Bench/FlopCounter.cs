using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Tensors;

namespace Tessera.Cli.Bench;

/// <summary>
/// Floating-point operations of one inference, counted for the nodes that dominate real models: MatMul, Gemm,
/// Conv and ConvTranspose (a multiply and an add per multiply-accumulate, so 2*M*N*K for a matrix product;
/// bias adds and everything else are left out). Shapes come from shape inference with the benchmark's input
/// shapes fixed, so they are the shapes the run produces.
/// </summary>
internal static class FlopCounter
{
    /// <summary>The count, and how many of the counted kinds of node had shapes inference could not tell (0 means the count is complete).</summary>
    public sealed record Result(double Flops, int CountedNodes, int UnknownNodes);

    public static Result Count(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds)
    {
        ShapeInference.Infer(model, feeds.ToDictionary(f => f.Key, f => f.Value.Shape, StringComparer.Ordinal));
        var graph = model.Graph;
        double total = 0;
        int counted = 0, unknown = 0;
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || node.OpType is not ("MatMul" or "Gemm" or "Conv" or "ConvTranspose"))
            {
                continue;
            }

            double? flops = NodeFlops(node, name => feeds.TryGetValue(name, out var fed) ? fed.Shape : ShapeOf(graph, name));
            if (flops is { } f)
            {
                total += f;
                counted++;
            }
            else
            {
                unknown++;
            }
        }

        return new Result(total, counted, unknown);
    }

    /// <summary>FLOPs of one node from its input and output shapes (null when a shape it needs is unknown).</summary>
    public static double? NodeFlops(OnnxNode node, Func<string, int[]?> shapeOf)
    {
        int[]? In(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? shapeOf(node.Inputs[i]) : null;
        int[]? output = node.Outputs.Count > 0 ? shapeOf(node.Outputs[0]) : null;
        switch (node.OpType)
        {
            case "MatMul":
            {
                // Y = A @ B: every output element is a K-long dot product; K is A's last dimension (or its only one).
                var a = In(0);
                return a is { Length: > 0 } && output is not null ? 2.0 * Elements(output) * a[^1] : null;
            }

            case "Gemm":
            {
                var a = In(0);
                bool transA = node.Attributes.TryGetValue("transA", out var t) && t.Int != 0;
                return a is { Length: 2 } && output is not null ? 2.0 * Elements(output) * (transA ? a[0] : a[1]) : null;
            }

            case "Conv":
            {
                // Each output element sums over Cin/group input channels times the kernel window.
                var w = In(1);
                return w is { Length: >= 2 } && output is not null ? 2.0 * Elements(output) * Elements(w.AsSpan(1)) : null;
            }

            case "ConvTranspose":
            {
                // Each input element scatters into Cout/group channels times the kernel window.
                var x = In(0);
                var w = In(1);
                return x is not null && w is { Length: >= 2 } ? 2.0 * Elements(x) * Elements(w.AsSpan(1)) : null;
            }

            default:
                return null;
        }
    }

    /// <summary>Graph inputs keep their declared (possibly symbolic) shapes, so the caller looks those up in the feeds first.</summary>
    private static int[]? ShapeOf(OnnxGraph graph, string name) =>
        graph.Initializers.TryGetValue(name, out var t) ? t.Shape : ShapeInference.KnownShape(graph, name);

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
