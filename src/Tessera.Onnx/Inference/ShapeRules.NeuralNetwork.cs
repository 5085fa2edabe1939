using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Rules for MatMul, Gemm, convolutions and pooling.</summary>
internal static partial class ShapeRules
{
    private static void AddNeuralNetworkRules(Dictionary<string, Action<InferenceContext>> rules)
    {
        rules["MatMul"] = MatMul;
        rules["Gemm"] = c =>
        {
            var a = c.InputShape(0);
            var b = c.InputShape(1);
            if (a is null || b is null || a.Length != 2 || b.Length != 2) return;
            var m = c.Int("transA", 0) != 0 ? a[1] : a[0];
            var n = c.Int("transB", 0) != 0 ? b[0] : b[1];
            c.SetOutput(0, c.InputType(0), [m, n]);
        };
        rules["Conv"] = c => Window(c, channelsFromWeight: true);
        rules["AveragePool"] = c => Window(c, channelsFromWeight: false);
        rules["MaxPool"] = c =>
        {
            Window(c, channelsFromWeight: false);
            if (c.Outputs[0] is { } y) c.SetOutput(1, DataType.Int64, y.Shape);
        };
        rules["ConvTranspose"] = ConvTranspose;
        foreach (var op in new[] { "GlobalAveragePool", "GlobalMaxPool" })
        {
            rules[op] = c =>
            {
                var x = c.InputShape(0);
                c.SetOutput(0, c.InputType(0), x?.Select((d, i) => i < 2 ? d : Dimension.Known(1)).ToArray());
            };
        }
    }

    private static void MatMul(InferenceContext c)
    {
        var a = c.InputShape(0);
        var b = c.InputShape(1);
        if (a is null || b is null || a.Length == 0 || b.Length == 0) return;
        var a2 = a.Length == 1 ? [Dimension.Known(1), a[0]] : a;
        var b2 = b.Length == 1 ? [b[0], Dimension.Known(1)] : b;
        var batch = Dims.Broadcast(a2[..^2], b2[..^2])!;
        var result = new List<Dimension>(batch);
        if (a.Length > 1) result.Add(a2[^2]);
        if (b.Length > 1) result.Add(b2[^1]);
        c.SetOutput(0, c.InputType(0), [.. result]);
    }

    private static void Window(InferenceContext c, bool channelsFromWeight, int weightIndex = 1)
    {
        var x = c.InputShape(0);
        if (x is null || x.Length < 3) return;
        int spatial = x.Length - 2;
        long[]? kernel = c.Ints("kernel_shape");
        Dimension channels = x[1];
        if (channelsFromWeight)
        {
            var w = c.InputShape(weightIndex);
            if (w is null) return;
            channels = w[0];
            kernel ??= w.Skip(2).Select(d => d.Value ?? -1).ToArray();
        }

        if (kernel is null || kernel.Length != spatial || kernel.Any(k => k < 0)) return;
        long[] strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] pads = c.Ints("pads") ?? new long[2 * spatial];
        string autoPad = c.String("auto_pad", "NOTSET");
        bool ceil = c.Int("ceil_mode", 0) != 0;
        var y = new Dimension[x.Length];
        y[0] = x[0];
        y[1] = channels;
        for (int i = 0; i < spatial; i++)
        {
            var input = x[i + 2];
            y[i + 2] = autoPad switch
            {
                "SAME_UPPER" or "SAME_LOWER" => input.IsKnown ? Dimension.Known((input.Value!.Value + strides[i] - 1) / strides[i]) : Dimension.Unknown,
                "VALID" => Dims.Window(input, kernel[i], strides[i], 0, 0, dilations[i], ceil),
                _ => Dims.Window(input, kernel[i], strides[i], pads[i], pads[i + spatial], dilations[i], ceil),
            };
        }

        c.SetOutput(0, c.InputType(0), y);
    }

    private static void ConvTranspose(InferenceContext c)
    {
        var x = c.InputShape(0);
        var w = c.InputShape(1);
        if (x is null || w is null || x.Length < 3 || !w[1].IsKnown) return;
        int spatial = x.Length - 2;
        long group = c.Int("group", 1);
        var y = new Dimension[x.Length];
        y[0] = x[0];
        y[1] = Dimension.Known(w[1].Value!.Value * group);
        long[]? outputShape = c.Ints("output_shape");
        long[] kernel = c.Ints("kernel_shape") ?? w.Skip(2).Select(d => d.Value ?? -1).ToArray();
        long[] strides = c.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] dilations = c.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        long[] pads = c.Ints("pads") ?? new long[2 * spatial];
        long[] outputPadding = c.Ints("output_padding") ?? new long[spatial];
        string autoPad = c.String("auto_pad", "NOTSET");
        for (int i = 0; i < spatial; i++)
        {
            var input = x[i + 2];
            if (outputShape is not null)
            {
                y[i + 2] = Dimension.Known(outputShape[outputShape.Length - spatial + i]);
            }
            else if (!input.IsKnown || kernel[i] < 0)
            {
                y[i + 2] = Dimension.Unknown;
            }
            else if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                y[i + 2] = Dimension.Known(input.Value!.Value * strides[i]);
            }
            else
            {
                long padTotal = autoPad == "VALID" ? 0 : pads[i] + pads[i + spatial];
                y[i + 2] = Dimension.Known(strides[i] * (input.Value!.Value - 1) + outputPadding[i] + ((kernel[i] - 1) * dilations[i] + 1) - padTotal);
            }
        }

        c.SetOutput(0, c.InputType(0), y);
    }
}
