using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Quantization;

/// <summary>
/// Emits the quantized form of one target node into a <see cref="QuantizedGraph"/> (see <see cref="ModelQuantizer"/>).
/// <paramref name="weightLimit"/> bounds the products' weights (127, or 64 with reduce_range); Gather tables keep 127,
/// as no integer product reads them.
/// </summary>
internal sealed class TargetRewriter(QuantizedGraph graph, bool perChannel, Dictionary<string, (float Min, float Max)>? ranges, int weightLimit)
{
    public void Rewrite(QuantizationTarget target)
    {
        var node = target.Node;
        if (node.OpType == "Gather")
        {
            node.Inputs[0] = DequantizedWeight(target, WeightQuantizer.FullLimit)[0];
            graph.Nodes.Add(node);
        }
        else if (ranges is null)
        {
            Dynamic(target);
        }
        else
        {
            Static(target, ranges[node.Inputs[0]]);
        }
    }

    // DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul(x_scale · w_scale) [→ Add bias].
    private void Dynamic(QuantizationTarget target)
    {
        var node = target.Node;
        var quantized = DynamicQuantized(node.Inputs[0]);

        bool conv = node.OpType == "Conv";
        bool transposed = target.ChannelAxis == 0 && !conv;
        var weight = graph.Shared($"integer:{target.Weight}:{target.ChannelAxis}:{weightLimit}", () =>
        {
            var value = transposed ? Transpose(target.Value) : target.Value;
            var (q, scales) = WeightQuantizer.Quantize(value, perChannel ? (conv ? 0 : 1) : -1, weightLimit);
            var scaleShape = !perChannel ? [] : conv ? [1, scales.Length, .. Enumerable.Repeat(1, value.Rank - 2)] : new[] { scales.Length };
            return
            [
                graph.Initializer(target.Weight + "_quantized", q),
                graph.Initializer(target.Weight + "_scale", Tensor.FromArray(scales, scaleShape)),
                graph.Initializer(target.Weight + "_zero_point", Tensor.Scalar((sbyte)0)),
            ];
        });

        string product = graph.Name(node.Outputs[0] + "_int32");
        var integer = graph.Emit(conv ? "ConvInteger" : "MatMulInteger", node.Name + "_quant", [quantized[0], weight[0], quantized[2], weight[2]], [product]);
        if (conv)
        {
            foreach (var (name, attribute) in node.Attributes) integer.Attributes[name] = attribute;
        }

        string? bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? node.Inputs[2] : null;
        string scaled = bias is null ? node.Outputs[0] : graph.Name(node.Outputs[0] + "_unbiased");
        Dequantize(node, product, quantized[1], weight[1], scaled);
        if (bias is not null)
        {
            if (conv) bias = graph.Initializer(bias + "_channels", ChannelBias(graph.Model.Graph.Initializers[bias], target.Value.Rank));
            graph.Emit("Add", node.Name + "_bias", [scaled, bias], [node.Outputs[0]]);
        }
    }

    // MatMul(x, y) of two activations: DynamicQuantizeLinear on each → MatMulInteger → Cast → Mul(x_scale · y_scale).
    public void DynamicActivations(OnnxNode node)
    {
        var x = DynamicQuantized(node.Inputs[0]);
        var y = DynamicQuantized(node.Inputs[1]);
        string product = graph.Name(node.Outputs[0] + "_int32");
        graph.Emit("MatMulInteger", node.Name + "_quant", [x[0], y[0], x[2], y[2]], [product]);
        Dequantize(node, product, x[1], y[1], node.Outputs[0]);
    }

    // One DynamicQuantizeLinear per activation, however many products read it: [quantized, scale, zero point].
    private string[] DynamicQuantized(string x) => graph.Shared("dynamic:" + x, () =>
    {
        string[] outputs = [graph.Name(x + "_quantized"), graph.Name(x + "_scale"), graph.Name(x + "_zero_point")];
        graph.Emit("DynamicQuantizeLinear", x + "_DynamicQuantizeLinear", [x], outputs);
        return outputs;
    });

    // Cast(int32 product → float) → Mul by Mul(a_scale, b_scale) into output.
    private void Dequantize(OnnxNode node, string product, string aScale, string bScale, string output)
    {
        string cast = graph.Name(node.Outputs[0] + "_float");
        graph.Emit("Cast", node.Name + "_cast", [product], [cast], QuantizedGraph.IntAttribute("to", (long)DataType.Float32));
        string scale = graph.Name(node.Outputs[0] + "_scales");
        graph.Emit("Mul", node.Name + "_scales_mul", [aScale, bScale], [scale]);
        graph.Emit("Mul", node.Name + "_dequantize", [cast, scale], [output]);
    }

    // QuantizeLinear → DequantizeLinear on the activation, DequantizeLinear on the weight (and an int32 bias), then the node.
    private void Static(QuantizationTarget target, (float Min, float Max) range)
    {
        var node = target.Node;
        string x = node.Inputs[0];
        var (xScale, xZero) = ActivationRanges.Parameters(range.Min, range.Max);
        var activation = graph.Shared("qdq:" + x, () =>
        {
            string s = graph.Initializer(x + "_scale", Tensor.Scalar(xScale));
            string z = graph.Initializer(x + "_zero_point", Tensor.Scalar(xZero));
            string q = graph.Name(x + "_quantized");
            string dq = graph.Name(x + "_dequantized");
            graph.Emit("QuantizeLinear", x + "_QuantizeLinear", [x, s, z], [q]);
            graph.Emit("DequantizeLinear", x + "_DequantizeLinear", [q, s, z], [dq]);
            return [dq];
        });

        var weight = DequantizedWeight(target, weightLimit);
        node.Inputs[0] = activation[0];
        node.Inputs[1] = weight[0];
        if (node.Inputs.Count > 2 && graph.Model.Graph.Initializers.TryGetValue(node.Inputs[2], out var bias)
            && bias is { DataType: DataType.Float32, Rank: 1 } && bias.Length == target.Value.Shape[target.ChannelAxis])
        {
            node.Inputs[2] = DequantizedBias(node.Inputs[2], bias, xScale, weight[1]);
        }

        graph.Nodes.Add(node);
    }

    // DequantizeLinear(int8 weight, scale, 0) along the output-channel axis; returns [output, scales initializer].
    // Keyed by the axis too: one initializer read by a Gather (rows) and a MatMul (columns) gets a DequantizeLinear for each.
    private string[] DequantizedWeight(QuantizationTarget target, int limit) => graph.Shared($"qdq:{target.Weight}:{target.ChannelAxis}:{limit}", () =>
    {
        int axis = perChannel ? target.ChannelAxis : -1;
        var (q, scales) = WeightQuantizer.Quantize(target.Value, axis, limit);
        string qName = graph.Initializer(target.Weight + "_quantized", q);
        string sName = graph.Initializer(target.Weight + "_scale", perChannel ? Tensor.FromArray(scales, scales.Length) : Tensor.Scalar(scales[0]));
        string zName = graph.Initializer(target.Weight + "_zero_point", perChannel ? Tensor.FromArray(new sbyte[scales.Length], scales.Length) : Tensor.Scalar((sbyte)0));
        string output = graph.Name(target.Weight + "_dequantized");
        var attributes = perChannel ? new[] { QuantizedGraph.IntAttribute("axis", axis) } : [];
        graph.Emit("DequantizeLinear", target.Weight + "_DequantizeLinear", [qName, sName, zName], [output], attributes);
        return [output, sName];
    });

    // int32 bias with scale x_scale · w_scale per channel and zero point 0, as ONNX Runtime's quantizer writes it.
    private string DequantizedBias(string name, Tensor bias, float xScale, string weightScales)
    {
        var ws = graph.Model.Graph.Initializers[weightScales].ToArray<float>();
        var scales = Enumerable.Range(0, bias.Length).Select(i => xScale * ws[Math.Min(i, ws.Length - 1)]).ToArray();
        var values = bias.ToArray<float>().Select((b, i) => (int)Math.Clamp(Math.Round(b / (double)scales[i]), int.MinValue, int.MaxValue)).ToArray();
        string q = graph.Initializer(name + "_quantized", Tensor.FromArray(values, values.Length));
        string s = graph.Initializer(name + "_scale", Tensor.FromArray(scales, scales.Length));
        string z = graph.Initializer(name + "_zero_point", Tensor.FromArray(new int[scales.Length], scales.Length));
        string output = graph.Name(name + "_dequantized");
        graph.Emit("DequantizeLinear", name + "_DequantizeLinear", [q, s, z], [output], QuantizedGraph.IntAttribute("axis", 0));
        return output;
    }

    private static Tensor ChannelBias(Tensor bias, int rank) => bias.Reshape([1, bias.Length, .. Enumerable.Repeat(1, rank - 2)]);

    private static Tensor Transpose(Tensor w)
    {
        int rows = w.Shape[0], cols = w.Shape[1];
        var result = Tensor.Allocate(DataType.Float32, [cols, rows]);
        var src = w.Span<float>();
        var dst = result.Span<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) dst[(c * rows) + r] = src[(r * cols) + c];
        }

        return result;
    }
}
