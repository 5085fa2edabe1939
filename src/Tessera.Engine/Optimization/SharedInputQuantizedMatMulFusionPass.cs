using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// Dynamically quantized products of one input X by constant weights of one width (attention's Q, K and V projections
/// of BERT-style models) → one com.tessera QuantizedMatMul over the weights side by side, with one output per product:
/// X's range is found, and X quantized and packed, once instead of once per product. The same bits: every product
/// quantized X with the same range-derived parameters, and each column keeps its own scale, zero point and bias.
/// Runs after dynamic-quantized-matmul-fusion makes the products, before residual and activation fusion, which leave
/// nodes of several outputs alone; a product an activation follows is left to activation fusion.
/// </summary>
internal sealed class SharedInputQuantizedMatMulFusionPass : IGraphPass
{
    public string Name => "shared-input-quantized-matmul-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        if (!graph.Registry.Supports(TesseraDomain.Name, "QuantizedMatMul", TesseraDomain.Version)) return false;
        bool changed = false;
        var groups = graph.Nodes.Where(n => graph.IsLive(n) && Weight(graph, n) is not null)
            .GroupBy(n => n.Inputs[0], StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.ToList())
            .ToList();
        foreach (var products in groups)
        {
            if (Merge(graph, products) is not { } fused) continue;
            graph.UseTesseraDomain();
            if (!graph.CanRun(fused)) continue;
            graph.Replace(products, fused, atFirst: true);
            graph.Log($"{string.Join(" + ", products)} → QuantizedMatMul with {products.Count} outputs");
            changed = true;
        }

        return changed;
    }

    // A dynamic QuantizedMatMul with a constant 2-D integer weight, nothing fused after it and one output: its weight.
    private static Tensor? Weight(GraphEditor graph, OnnxNode node)
    {
        if (node.Domain != TesseraDomain.Name || node.OpType != "QuantizedMatMul" || node.Outputs.Count != 1 || node.Inputs.Count is < 5 or > 7) return null;
        if (node.Attributes.Count != 1 || !node.Attributes.TryGetValue("dynamic", out var dynamic) || dynamic.Int != 1) return null;
        if (node.Inputs[1].Length > 0 || node.Inputs[2].Length > 0) return null;

        // An activation that activation fusion would fold into the product (a GELU up-projection) is worth more than
        // sharing the input's quantization.
        if (graph.SoleConsumer(node.Outputs[0]) is { } next && next.Inputs[0] == node.Outputs[0] && FusedActivation.Of(graph, next) is not null) return null;
        return graph.Constant(node.Inputs[3]) is { Rank: 2, DataType: DataType.Int8 or DataType.UInt8 } w ? w : null;
    }

    // The merged node, or null when the products differ in K, width, weight type or in having a bias, or a parameter
    // is not a constant this pass can lay side by side.
    private static OnnxNode? Merge(GraphEditor graph, List<OnnxNode> products)
    {
        var weights = products.Select(p => Weight(graph, p)!).ToList();
        int k = weights[0].Shape[0], n = weights[0].Shape[1];
        var type = weights[0].DataType;
        if (weights.Any(w => w.Shape[0] != k || w.Shape[1] != n || w.DataType != type)) return null;
        bool bias = Input(products[0], 6).Length > 0;
        if (products.Any(p => Input(p, 6).Length > 0 != bias)) return null;

        int parts = products.Count, width = parts * n;
        var weight = new byte[k * width];
        var scales = new float[width];
        var zeros = new byte[width];
        var biases = new float[width];
        bool anyZero = false;
        for (int i = 0; i < parts; i++)
        {
            var w = weights[i].Bytes;
            for (int row = 0; row < k; row++) w.Slice(row * n, n).CopyTo(weight.AsSpan((row * width) + (i * n), n));
            if (PerColumn<float>(graph, Input(products[i], 4), n, DataType.Float32) is not { } scale) return null;
            scale.CopyTo(scales, i * n);
            if (Input(products[i], 5).Length > 0)
            {
                if (PerColumn<byte>(graph, Input(products[i], 5), n, type) is not { } zero) return null;
                zero.CopyTo(zeros, i * n);
                anyZero = true;
            }

            if (bias)
            {
                if (graph.Constant(Input(products[i], 6)) is not { DataType: DataType.Float32 } b || b.Length != n) return null;
                b.Span<float>().CopyTo(biases.AsSpan(i * n, n));
            }
        }

        string name = products[0].Inputs[3];
        var inputs = new List<string>
        {
            products[0].Inputs[0], string.Empty, string.Empty,
            graph.AddInitializer(name, TensorOf(weight, type, k, width)),
            graph.AddInitializer(products[0].Inputs[4], Tensor.FromArray(scales, width)),
            anyZero ? graph.AddInitializer(name + "_zero_point", TensorOf(zeros, type, width)) : string.Empty,
        };
        if (bias) inputs.Add(graph.AddInitializer(products[0].Inputs[6], Tensor.FromArray(biases, width)));
        var fused = GraphEditor.NewNode("QuantizedMatMul", TesseraDomain.Name, products[0].Name, inputs, products.Select(p => p.Outputs[0]));
        fused.Attributes["dynamic"] = new NodeAttribute { Name = "dynamic", Kind = AttributeKind.Int, Int = 1 };
        return fused;
    }

    private static string Input(OnnxNode node, int index) => index < node.Inputs.Count ? node.Inputs[index] : string.Empty;

    // A constant of one value or one per column, of the given type, as one value per column.
    private static T[]? PerColumn<T>(GraphEditor graph, string value, int columns, DataType type)
        where T : unmanaged
    {
        if (graph.Constant(value) is not { } t || t.DataType != type || (t.Length != 1 && t.Length != columns)) return null;
        var values = MemoryMarshal.Cast<byte, T>(t.Bytes).ToArray();
        return values.Length == columns ? values : Enumerable.Repeat(values[0], columns).ToArray();
    }

    private static Tensor TensorOf(byte[] bytes, DataType type, params int[] shape) =>
        type == DataType.Int8 ? Tensor.FromArray(MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(), shape) : Tensor.FromArray(bytes, shape);
}
