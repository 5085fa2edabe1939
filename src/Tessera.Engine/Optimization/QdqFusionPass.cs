using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// QDQ graphs (as ONNX Runtime's quantizer and `tessera quantize --mode static` write them) onto the integer kernels.
/// MatMul/Conv of DequantizeLinear(x) and DequantizeLinear(constant W) whose only reader is a QuantizeLinear → the
/// standard QLinearMatMul/QLinearConv. Otherwise, when x's DequantizeLinear reads a QuantizeLinear(float x) with the
/// same parameters, MatMul/Gemm/Conv (with their float or int32-dequantized bias, and a MatMul's bias Add) → com.tessera
/// QuantizedMatMul/QuantizedConv, which quantize x while packing it and dequantize in the GEMM's epilogue. Both are
/// exact rewrites: the integer kernels compute what the float graph computes on the quantized values, to one rounding.
/// </summary>
internal sealed class QdqFusionPass : IGraphPass
{
    public string Name => "qdq-fusion";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.All;

    public bool Apply(GraphEditor graph)
    {
        bool changed = false;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!graph.IsLive(node) || node.Outputs.Count != 1 || node.Inputs.Count < 2) continue;
            bool conv = GraphEditor.IsOp(node, "Conv"), gemm = GraphEditor.IsOp(node, "Gemm");
            if (!conv && !gemm && !GraphEditor.IsOp(node, "MatMul")) continue;
            if (gemm && !PlainGemm(node)) continue;
            if (DequantizedInput.Match(graph, node.Inputs[0]) is not { } x || !x.IsActivation(graph)) continue;
            int outputAxis = conv ? 0 : gemm && Int(node, "transB", 0) != 0 ? 0 : 1;
            if (DequantizedInput.Match(graph, node.Inputs[1]) is not { } w || !w.IsWeight(outputAxis)) continue;
            if (!conv && w.Values!.Rank != 2) continue;

            var fused = (gemm ? null : QLinear(graph, node, x, w, conv)) ?? Quantized(graph, node, x, w, conv, gemm);
            if (fused is null) continue;
            changed = true;
        }

        return changed;
    }

    // DQ → MatMul/Conv → Q with constant output parameters → QLinearMatMul/QLinearConv on the quantized values.
    private static OnnxNode? QLinear(GraphEditor graph, OnnxNode node, DequantizedInput x, DequantizedInput w, bool conv)
    {
        if (graph.SoleConsumer(node.Outputs[0]) is not { } q || !GraphEditor.IsOp(q, "QuantizeLinear") || q.Inputs.Count < 2) return null;
        if (graph.Constant(q.Inputs[1]) is not { Length: 1 } || (q.Inputs.Count > 2 && graph.Constant(q.Inputs[2]) is not { Length: 1 })) return null;
        if (!conv && node.Inputs.Count > 2) return null;
        string bias = string.Empty;
        if (conv && node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            // QLinearConv adds an int32 bias quantized with x_scale · w_scale and no zero point.
            if (DequantizedInput.Match(graph, node.Inputs[2]) is not { Values.DataType: DataType.Int32 } b || !BiasScaleMatches(b, x, w)) return null;
            bias = b.Quantized;
        }

        string yZero = q.Inputs.Count > 2 && q.Inputs[2].Length > 0 ? q.Inputs[2] : graph.AddInitializer(q.Outputs[0] + "/zero_point", Tensor.Scalar((byte)0));
        string[] inputs =
        [
            x.Quantized, x.ScaleName, ZeroPoint(graph, x), w.Quantized, w.ScaleName, ZeroPoint(graph, w), q.Inputs[1], yZero,
        ];
        var fused = GraphEditor.NewNode(conv ? "QLinearConv" : "QLinearMatMul", string.Empty, node.Name, bias.Length > 0 ? [.. inputs, bias] : inputs, [q.Outputs[0]]);
        if (conv) CopyConvAttributes(node, fused);
        if (!graph.CanRun(fused)) return null;
        graph.Replace([node, q], fused);
        graph.Log($"{x.Node} → {node} → {q} → {fused.OpType}");
        return fused;
    }

    // Q(x) → DQ → MatMul/Gemm/Conv(·, DQ(W)) [+ bias] → com.tessera QuantizedMatMul/QuantizedConv on float x.
    private static OnnxNode? Quantized(GraphEditor graph, OnnxNode node, DequantizedInput x, DequantizedInput w, bool conv, bool gemm)
    {
        if (graph.Producer(x.Quantized) is not { } q || !GraphEditor.IsOp(q, "QuantizeLinear") || !SameParameters(graph, q, x)) return null;
        if (!graph.Registry.Supports(TesseraDomain.Name, conv ? "QuantizedConv" : "QuantizedMatMul", TesseraDomain.Version)) return null;
        int outputs = conv ? w.Values!.Shape[0] : gemm && Int(node, "transB", 0) != 0 ? w.Values!.Shape[0] : w.Values!.Shape[1];
        var removed = new List<OnnxNode> { node };
        string output = node.Outputs[0];
        float[]? bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? FloatBias(graph, node.Inputs[2], outputs) : null;
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && bias is null) return null;
        if (!conv && !gemm && graph.SoleConsumer(output) is { } add && GraphEditor.IsOp(add, "Add")
            && GraphEditor.OtherInput(add, output) is { } c && graph.Constant(c) is { DataType: DataType.Float32 } addend
            && addend.Length == outputs && addend.Shape[^1] == outputs && addend.Rank <= (graph.Rank(output) ?? 0))
        {
            bias = addend.ToArray<float>();
            removed.Add(add);
            output = add.Outputs[0];
        }

        string weight = w.Quantized;
        if (gemm && Int(node, "transB", 0) != 0)
        {
            weight = graph.AddInitializer(w.Quantized + "/transposed", Transpose(w.Values!));
        }

        string xZero = UnsignedZeroPoint(graph, x);
        string biasName = bias is null ? string.Empty : graph.AddInitializer(node.Name + "/bias", Tensor.FromArray(bias, bias.Length));
        var fused = GraphEditor.NewNode(conv ? "QuantizedConv" : "QuantizedMatMul", TesseraDomain.Name, node.Name,
            [q.Inputs[0], x.ScaleName, xZero, weight, w.ScaleName, w.ZeroPointName, biasName], [output]);
        if (conv) CopyConvAttributes(node, fused);
        graph.UseTesseraDomain();
        if (!graph.CanRun(fused)) return null;
        graph.Replace(removed, fused);
        graph.Log($"{q} → {x.Node} → {node}{(removed.Count > 1 ? " + bias" : string.Empty)} → {fused.OpType}");
        return fused;
    }

    private static bool PlainGemm(OnnxNode node) =>
        Int(node, "transA", 0) == 0 && Float(node, "alpha", 1) == 1 && Float(node, "beta", 1) == 1;

    private static long Int(OnnxNode node, string name, long fallback) => node.Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    private static float Float(OnnxNode node, string name, float fallback) => node.Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    private static void CopyConvAttributes(OnnxNode from, OnnxNode to)
    {
        foreach (var (name, attribute) in from.Attributes) to.Attributes[name] = attribute;
    }

    // QuantizeLinear(x, s, z) feeding DequantizeLinear(·, s', z') with the same constant parameters: an exact round trip.
    private static bool SameParameters(GraphEditor graph, OnnxNode q, DequantizedInput x)
    {
        if (q.Inputs.Count < 2 || graph.Constant(q.Inputs[1]) is not { DataType: DataType.Float32, Length: 1 } scale) return false;
        if (scale.Span<float>()[0] != x.Scale.Span<float>()[0]) return false;
        var zero = q.Inputs.Count > 2 && q.Inputs[2].Length > 0 ? graph.Constant(q.Inputs[2]) : null;
        if (q.Inputs.Count > 2 && q.Inputs[2].Length > 0 && zero is null) return false;
        return ZeroValue(zero) == ZeroValue(x.ZeroPoint) && (zero?.DataType ?? DataType.UInt8) == (x.ZeroPoint?.DataType ?? DataType.UInt8);
    }

    private static int ZeroValue(Tensor? zero) => zero is null ? 0 : zero.DataType == DataType.Int8 ? zero.Span<sbyte>()[0] : zero.Span<byte>()[0];

    private static string ZeroPoint(GraphEditor graph, DequantizedInput input) =>
        input.ZeroPointName.Length > 0 ? input.ZeroPointName
            : graph.AddInitializer(input.Quantized + "/zero_point", Tensor.Scalar((byte)0));

    // The fused kernels quantize activations to uint8: an int8 zero point z is the uint8 zero point z + 128.
    private static string UnsignedZeroPoint(GraphEditor graph, DequantizedInput x) =>
        x.ZeroPoint is { DataType: DataType.Int8 } z
            ? graph.AddInitializer(x.Quantized + "/zero_point_u8", Tensor.Scalar((byte)(z.Span<sbyte>()[0] + 128)))
            : x.ZeroPointName;

    private static bool BiasScaleMatches(DequantizedInput bias, DequantizedInput x, DequantizedInput w)
    {
        if (bias.ZeroPoint is not null && bias.ZeroPoint.ToArray<int>().Any(z => z != 0)) return false;
        var b = bias.Scale.ToArray<float>();
        var ws = w.Scale.ToArray<float>();
        float xs = x.Scale.Span<float>()[0];
        for (int i = 0; i < Math.Max(b.Length, ws.Length); i++)
        {
            float expected = xs * ws[Math.Min(i, ws.Length - 1)];
            if (Math.Abs(b[Math.Min(i, b.Length - 1)] - expected) > 1e-6f * Math.Abs(expected)) return false;
        }

        return true;
    }

    // A float32 constant of n values, or DequantizeLinear of a constant int32 one (evaluated here).
    private static float[]? FloatBias(GraphEditor graph, string value, int n)
    {
        if (graph.Constant(value) is { DataType: DataType.Float32 } constant) return constant.Length == n ? constant.ToArray<float>() : null;
        if (DequantizedInput.Match(graph, value) is not { Values: { DataType: DataType.Int32 } values } dq || values.Length != n) return null;
        var scale = dq.Scale.ToArray<float>();
        var zero = dq.ZeroPoint?.ToArray<int>();
        return Enumerable.Range(0, n)
            .Select(i => (values.Span<int>()[i] - (zero is null ? 0 : zero[Math.Min(i, zero.Length - 1)])) * scale[Math.Min(i, scale.Length - 1)])
            .ToArray();
    }

    private static Tensor Transpose(Tensor w)
    {
        int rows = w.Shape[0], cols = w.Shape[1];
        var result = Tensor.Allocate(w.DataType, [cols, rows]);
        var src = w.Bytes;
        var dst = result.Bytes;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) dst[(c * rows) + r] = src[(r * cols) + c];
        }

        return result;
    }
}
