using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Type and shape rules per ONNX operator. This file: the table and the element-wise families.</summary>
internal static partial class ShapeRules
{
    private static readonly Dictionary<string, Action<InferenceContext>> s_rules = Build();

    public static bool TryGet(string opType, out Action<InferenceContext> rule) => s_rules.TryGetValue(opType, out rule!);

    private static Dictionary<string, Action<InferenceContext>> Build()
    {
        var rules = new Dictionary<string, Action<InferenceContext>>(StringComparer.Ordinal);
        foreach (var op in new[]
        {
            "Abs", "Ceil", "Cos", "Elu", "Erf", "Exp", "Floor", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "Log",
            "Neg", "Not", "Reciprocal", "Relu", "Round", "Sigmoid", "Sign", "Sin", "Softplus", "Sqrt", "Tanh", "Clip",
            "Softmax", "LogSoftmax", "CumSum", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
            "Trilu", "ScatterElements", "ScatterND", "Gelu", "Selu", "ThresholdedRelu", "Softsign", "Tan", "Atan", "Asin", "Acos",
        })
        {
            rules[op] = c =>
            {
                c.PassThrough();
                if (c.Node.OpType == "LayerNormalization") LayerNormStats(c);
            };
        }

        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "Max", "Min", "Mean", "Sum" })
        {
            rules[op] = c =>
            {
                var shapes = Enumerable.Range(0, c.InputCount).Select(c.InputShape).ToArray();
                c.SetOutput(0, c.InputType(0), Dims.Broadcast(shapes));
                ArithmeticValue(c);
            };
        }

        foreach (var op in new[] { "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor" })
        {
            rules[op] = c => c.SetOutput(0, DataType.Bool, Dims.Broadcast(c.InputShape(0), c.InputShape(1)));
        }

        rules["Where"] = c => c.SetOutput(0, c.InputType(1), Dims.Broadcast(c.InputShape(0), c.InputShape(1), c.InputShape(2)));
        rules["Cast"] = Cast;
        rules["Dropout"] = c =>
        {
            c.PassThrough();
            c.SetOutput(1, DataType.Bool, c.InputShape(0));
        };

        AddNeuralNetworkRules(rules);
        AddLayoutRules(rules);
        AddReductionRules(rules);
        AddValueRules(rules);
        AddQuantizationRules(rules);
        return rules;
    }

    private static void LayerNormStats(InferenceContext c)
    {
        var shape = c.InputShape(0);
        if (shape is null) return;
        int axis = Dims.Axis(c.Int("axis", -1), shape.Length);
        var stats = shape.Select((d, i) => i < axis ? d : Dimension.Known(1)).ToArray();
        c.SetOutput(1, DataType.Float32, stats);
        c.SetOutput(2, DataType.Float32, stats);
    }

    private static void Cast(InferenceContext c)
    {
        var to = (DataType)c.Int("to", 0);
        c.SetOutput(0, to, c.InputShape(0));
        var value = c.InputValue(0);
        if (value is not null && to is DataType.Int64 or DataType.Int32 && value.DataType is DataType.Int64 or DataType.Int32 && value.Length <= 64)
        {
            long[] values = c.InputInts(0)!;
            c.SetOutputValue(0, to == DataType.Int64
                ? Tensor.FromArray(values, value.Shape)
                : Tensor.FromArray(values.Select(v => (int)v).ToArray(), value.Shape));
        }
    }
}
