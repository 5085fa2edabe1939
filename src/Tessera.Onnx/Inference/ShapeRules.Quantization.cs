using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Rules for the quantization operators: the output type comes from a zero point (or is fixed), the shape from the data.</summary>
internal static partial class ShapeRules
{
    private static void AddQuantizationRules(Dictionary<string, Action<InferenceContext>> rules)
    {
        rules["QuantizeLinear"] = c =>
        {
            var type = c.HasInput(2) ? c.InputType(2) : (DataType)c.Int("output_dtype", (long)DataType.UInt8);
            c.SetOutput(0, type == DataType.Undefined ? DataType.UInt8 : type, c.InputShape(0));
        };
        rules["DequantizeLinear"] = c => c.SetOutput(0, c.InputType(1), c.InputShape(0));
        rules["DynamicQuantizeLinear"] = c =>
        {
            c.SetOutput(0, DataType.UInt8, c.InputShape(0));
            c.SetOutput(1, DataType.Float32, []);
            c.SetOutput(2, DataType.UInt8, []);
        };
        rules["MatMulInteger"] = c =>
        {
            MatMul(c);
            if (c.Outputs[0] is { } y) c.SetOutput(0, DataType.Int32, y.Shape);
        };
        rules["QLinearMatMul"] = c =>
        {
            var a = c.InputShape(0);
            var b = c.InputShape(3);
            if (a is null || b is null || a.Length == 0 || b.Length == 0) return;
            var a2 = a.Length == 1 ? [Graph.Dimension.Known(1), a[0]] : a;
            var b2 = b.Length == 1 ? [b[0], Graph.Dimension.Known(1)] : b;
            var result = new List<Graph.Dimension>(Dims.Broadcast(a2[..^2], b2[..^2])!);
            if (a.Length > 1) result.Add(a2[^2]);
            if (b.Length > 1) result.Add(b2[^1]);
            c.SetOutput(0, c.InputType(7), [.. result]);
        };
        rules["ConvInteger"] = c =>
        {
            Window(c, channelsFromWeight: true);
            if (c.Outputs[0] is { } y) c.SetOutput(0, DataType.Int32, y.Shape);
        };
        rules["QLinearConv"] = c =>
        {
            Window(c, channelsFromWeight: true, weightIndex: 3);
            if (c.Outputs[0] is { } y) c.SetOutput(0, c.InputType(7), y.Shape);
        };
    }
}
