using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;
using static Tessera.Tests.Support.GraphBuilder;

namespace Tessera.Tests.Tiers;

/// <summary>
/// The cases of <see cref="TierAgreementTests"/>, written once per test run in the ONNX backend-test layout with the
/// native tier's outputs (1 thread) as the expected ones. Each kernel case names the family and the dispatch branch
/// it exercises; the model cases are the reference models of conformance/ at small shapes.
/// </summary>
internal static class TierCases
{
    public static readonly Lazy<string> Kernels = new(() => Write("kernels", KernelCases()));

    public static readonly Lazy<string> Models = new(() => Write("models", ModelCases()));

    public static int KernelCount => KernelCases().Count;

    public static int ModelCount => ModelCases().Count;

    private static List<(string Name, Func<OnnxModel> Model, Func<Dictionary<string, Tensor>> Inputs)> KernelCases() =>
    [
        // Convolutions: the direct kernel (AVX-512) or im2col panels (others), its batched-panel path for small
        // planes, the channel-blocked kernel (AVX-512, 64-channel multiples), the stride-2 phase split, pointwise
        // GEMMs, groups, dilation, 1-D and 3-D im2col bands, weights that are not constant (unpacked), depthwise
        // loops, the fused residual sum and ConvTranspose (its kernel-2 stride-2 rows scattered as interleaved vectors).
        Case("conv_3x3_direct", Conv([1, 32, 28, 28], [48, 32, 3, 3], pads: 1)),
        Case("conv_3x3_batch8_small_planes_panels", Conv([8, 64, 7, 7], [48, 64, 3, 3], pads: 1)),
        Case("conv_3x3_channel_blocked", Conv([2, 32, 14, 14], [128, 32, 3, 3], pads: 1)),
        Case("conv_7x7_stride2_phases", Conv([1, 3, 56, 56], [16, 3, 7, 7], pads: 3, stride: 2)),
        Case("conv_3x3_stride2_odd", Conv([2, 16, 29, 29], [24, 16, 3, 3], pads: 1, stride: 2)),
        Case("conv_1x1_pointwise", Conv([2, 64, 14, 14], [96, 64, 1, 1])),
        Case("conv_grouped", Conv([1, 32, 20, 20], [32, 8, 3, 3], pads: 1, group: 4)),
        Case("conv_dilated", Conv([1, 8, 20, 20], [8, 8, 3, 3], pads: 2, dilation: 2)),
        Case("conv_1d_bands", Conv([2, 8, 50], [12, 8, 5])),
        Case("conv_3d_bands", Conv([1, 4, 6, 8, 8], [6, 4, 3, 3, 3])),
        Case("conv_weights_as_input", ConvWeightsAsInput()),
        Case("conv_depthwise_s1", Conv([1, 48, 30, 30], [48, 1, 3, 3], pads: 1, group: 48)),
        Case("conv_depthwise_s2", Conv([2, 32, 31, 31], [32, 1, 3, 3], pads: 1, group: 32, stride: 2)),
        Case("conv_add_relu_fused_sum", ConvAddRelu()),
        Case("conv_transpose_s2", Single("ConvTranspose", [1, 8, 10, 10], [C("w", [8, 6, 3, 3])], [Ints("strides", 2, 2)])),
        Case("conv_transpose_k2_s2_interleaved", Single("ConvTranspose", [1, 8, 6, 21], [C("w", [8, 4, 2, 2])], [Ints("strides", 2, 2)])),

        // Pooling: max and average with padding and stride, the separable paths, global pools.
        Case("maxpool_3x3_s2_p1", Single("MaxPool", [2, 16, 33, 33], [], [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)])),
        Case("avgpool_3x3_s1_p1", Single("AveragePool", [2, 16, 20, 20], [], [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)])),
        Case("avgpool_2x2_s2", Single("AveragePool", [1, 24, 32, 32], [], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)])),
        Case("global_average_pool", Single("GlobalAveragePool", [4, 64, 7, 7], [], [])),
        Case("global_max_pool", Single("GlobalMaxPool", [2, 40, 9, 11], [], [])),

        // GEMM: packed constant weights (blocked), a GEMV-shaped row, batched products of two inputs, tiny shapes,
        // Gemm with transposed B, alpha, beta and a bias.
        Case("matmul_packed_weight", Single("MatMul", [64, 256], [C("w", [256, 192])], [])),
        Case("matmul_one_row", Single("MatMul", [1, 512], [C("w", [512, 300])], [])),
        Case("matmul_batched_inputs", TwoInputs("MatMul", [2, 4, 33, 48], [2, 4, 48, 40])),
        Case("matmul_tiny", TwoInputs("MatMul", [3, 5], [5, 7])),
        Case("gemm_transB_bias", Single("Gemm", [40, 70], [C("w", [90, 70]), C("c", [90])], [Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f)])),

        // Transformer pieces and elementwise drivers.
        Case("softmax_last_axis", Single("Softmax", [4, 8, 100], [], [Int("axis", -1)])),
        Case("layer_normalization", Single("LayerNormalization", [4, 16, 96], [C("scale", [96]), C("bias", [96])], [Int("axis", -1)]), 17),
        Case("gelu_erf_pattern", GeluPattern()),
        Case("add_broadcast", TwoInputs("Add", [4, 1, 50], [1, 30, 50])),
        Case("mul_div_sub", MulDivSub()),
        Case("exp", Single("Exp", [3, 333], [], [])),
        Case("tanh", Single("Tanh", [3, 333], [], [])),
        Case("sigmoid", Single("Sigmoid", [3, 333], [], [])),
        Case("erf", Single("Erf", [3, 333], [], [])),
        Case("batch_normalization", Single("BatchNormalization", [2, 12, 9, 9], [C("s", [12]), C("b", [12]), C("mean", [12]), C("var", [12], 0.5f, 1.5f)], [])),
        Case("reduce_mean_last", Single("ReduceMean", [8, 300], [], [Ints("axes", -1)])),
        Case("reduce_sum_middle", Single("ReduceSum", [6, 70, 50], [], [Ints("axes", 1)])),
        Case("resize_linear", ResizeLinear()),
    ];

    private static List<(string Name, Func<OnnxModel> Model, Func<Dictionary<string, Tensor>> Inputs)> ModelCases()
    {
        string models = Path.Combine(TestPaths.Cache, "models");
        string ocr = Path.Combine(TestPaths.Cache, "npm", "node_modules", "@gutenye", "ocr-models", "assets");
        // Input kinds: 'f' floats in [-1, 1), 'i' token ids, '1' an attention mask of ones.
        (string, Func<OnnxModel>, Func<Dictionary<string, Tensor>>) Model(string name, string path, params (string Input, int[] Shape, char Kind)[] inputs) =>
            (name, () => ModelReader.Load(path), () => inputs.ToDictionary(i => i.Input, i => i.Kind switch
            {
                'i' => Ids(i.Shape, 100),
                '1' => Ids(i.Shape, 1, offset: 1),
                _ => Floats(i.Shape),
            }));
        return
        [
            Model("dense_b4", Path.Combine(models, "dense.onnx"), ("input", [4, 100], 'f')),
            Model("resnet18_b1", Path.Combine(models, "resnet18.onnx"), ("image", [1, 3, 224, 224], 'f')),
            Model("bert_b2_s16", Path.Combine(models, "bert.onnx"), ("input_ids", [2, 16], 'i'), ("attention_mask", [2, 16], '1')),
            Model("gpt_b1_s24", Path.Combine(models, "gpt.onnx"), ("input_ids", [1, 24], 'i')),
            Model("ppocr_det_64x96", Path.Combine(ocr, "ch_PP-OCRv4_det_infer.onnx"), ("x", [1, 3, 64, 96], 'f')),
            Model("ppocr_rec_48x80", Path.Combine(ocr, "ch_PP-OCRv4_rec_infer.onnx"), ("x", [1, 3, 48, 80], 'f')),
            Model("ppocr_cls_b2_48x192", Path.Combine(ocr, "ch_ppocr_mobile_v2.0_cls_infer.onnx"), ("x", [2, 3, 48, 192], 'f')),
        ];
    }

    /// <summary>Runs each case on this process's tier and writes model.onnx, input_K.pb and output_K.pb.</summary>
    private static string Write(string kind, List<(string Name, Func<OnnxModel> Model, Func<Dictionary<string, Tensor>> Inputs)> cases)
    {
        string root = Path.Combine(Path.GetTempPath(), $"tessera-tiers-{Environment.ProcessId}", kind);
        foreach (var (name, build, feeds) in cases)
        {
            var model = build();
            var inputs = feeds();
            var outputs = new InferenceSession(model, new SessionOptions { Threads = 1 }).Run(inputs);
            string data = Path.Combine(root, name, "test_data_set_0");
            Directory.CreateDirectory(data);
            ModelWriter.Save(model, Path.Combine(root, name, "model.onnx"));
            var graph = model.Graph;
            var graphInputs = graph.Inputs.Where(i => !graph.Initializers.ContainsKey(i.Name)).ToList();
            for (int i = 0; i < graphInputs.Count; i++)
            {
                TensorProtoFormat.WriteFile(Path.Combine(data, $"input_{i}.pb"), inputs[graphInputs[i].Name], graphInputs[i].Name);
            }

            for (int i = 0; i < graph.Outputs.Count; i++)
            {
                TensorProtoFormat.WriteFile(Path.Combine(data, $"output_{i}.pb"), outputs[graph.Outputs[i].Name], graph.Outputs[i].Name);
            }
        }

        return root;
    }

    private static (string, Func<OnnxModel>, Func<Dictionary<string, Tensor>>) Case(string name, (OnnxModel Model, Dictionary<string, Tensor> Inputs) built, int opset = 13)
    {
        built.Model.OpsetImports[""] = opset;
        return (name, () => built.Model, () => built.Inputs);
    }

    private static (OnnxModel, Dictionary<string, Tensor>) Conv(int[] x, int[] w, int pads = 0, int stride = 1, int group = 1, int dilation = 1)
    {
        int rank = x.Length - 2;
        var attributes = new List<NodeAttribute>
        {
            Ints("pads", Enumerable.Repeat((long)pads, 2 * rank).ToArray()),
            Ints("strides", Enumerable.Repeat((long)stride, rank).ToArray()),
            Ints("dilations", Enumerable.Repeat((long)dilation, rank).ToArray()),
            Int("group", group),
        };
        return Single("Conv", x, [C("w", w), C("b", [w[0]])], attributes.ToArray());
    }

    /// <summary>One node whose first input is the graph input "x" (shape <paramref name="x"/>) and the rest constants.</summary>
    private static (OnnxModel, Dictionary<string, Tensor>) Single(string op, int[] x, Constant[] constants, NodeAttribute[] attributes)
    {
        var builder = new GraphBuilder().Input("x", DataType.Float32, x.Cast<object>().ToArray());
        foreach (var c in constants) builder.Initializer(c.Name, Floats(c.Shape, c.Low, c.High));
        builder.Node(op, ["x", .. constants.Select(c => c.Name)], ["y"], op.ToLowerInvariant(), attributes).Output("y");
        return (builder.Build(), Feeds(("x", Floats(x))));
    }

    /// <summary>A constant input: uniform in [Low, High).</summary>
    private sealed record Constant(string Name, int[] Shape, float Low = -1f, float High = 1f);

    private static Constant C(string name, int[] shape, float low = -1f, float high = 1f) => new(name, shape, low, high);

    private static (OnnxModel, Dictionary<string, Tensor>) TwoInputs(string op, int[] a, int[] b) =>
        (new GraphBuilder().Input("a", DataType.Float32, a.Cast<object>().ToArray()).Input("b", DataType.Float32, b.Cast<object>().ToArray())
            .Node(op, ["a", "b"], ["y"]).Output("y").Build(), Feeds(("a", Floats(a)), ("b", Floats(b, -1f, 1f, 2))));

    private static (OnnxModel, Dictionary<string, Tensor>) ConvWeightsAsInput() =>
        (new GraphBuilder().Input("x", DataType.Float32, 1, 8, 16, 16).Input("w", DataType.Float32, 12, 8, 3, 3)
            .Node("Conv", ["x", "w"], ["y"], "conv", Ints("pads", 1, 1, 1, 1)).Output("y").Build(),
            Feeds(("x", Floats([1, 8, 16, 16])), ("w", Floats([12, 8, 3, 3], -1f, 1f, 2))));

    private static (OnnxModel, Dictionary<string, Tensor>) ConvAddRelu() =>
        (new GraphBuilder().Input("x", DataType.Float32, 2, 16, 14, 14).Input("r", DataType.Float32, 2, 16, 14, 14)
            .Initializer("w", Floats([16, 16, 3, 3])).Initializer("b", Floats([16]))
            .Node("Conv", ["x", "w", "b"], ["c"], "conv", Ints("pads", 1, 1, 1, 1))
            .Node("Add", ["c", "r"], ["s"]).Node("Relu", ["s"], ["y"]).Output("y").Build(),
            Feeds(("x", Floats([2, 16, 14, 14])), ("r", Floats([2, 16, 14, 14], -1f, 1f, 2))));

    private static (OnnxModel, Dictionary<string, Tensor>) GeluPattern() =>
        (new GraphBuilder().Input("x", DataType.Float32, 4, 200)
            .Initializer("root2", Tensor.FromArray([MathF.Sqrt(2f)], [])).Initializer("one", Tensor.FromArray([1f], []))
            .Initializer("half", Tensor.FromArray([0.5f], []))
            .Node("Div", ["x", "root2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["p"])
            .Node("Mul", ["x", "p"], ["m"]).Node("Mul", ["m", "half"], ["y"]).Output("y").Build(),
            Feeds(("x", Floats([4, 200], -4f, 4f))));

    private static (OnnxModel, Dictionary<string, Tensor>) MulDivSub() =>
        (new GraphBuilder().Input("a", DataType.Float32, 7, 65).Input("b", DataType.Float32, 7, 65)
            .Node("Mul", ["a", "b"], ["m"]).Node("Div", ["m", "b"], ["d"]).Node("Sub", ["d", "a"], ["y"]).Output("y").Build(),
            Feeds(("a", Floats([7, 65])), ("b", Floats([7, 65], 0.5f, 2f, 2))));

    private static (OnnxModel, Dictionary<string, Tensor>) ResizeLinear() =>
        (new GraphBuilder().Input("x", DataType.Float32, 1, 3, 20, 20)
            .Initializer("roi", Tensor.FromArray(Array.Empty<float>(), [0]))
            .Initializer("scales", Tensor.FromArray([1f, 1f, 2f, 2f], [4]))
            .Node("Resize", ["x", "roi", "scales"], ["y"], "resize", Str("mode", "linear")).Output("y").Build(),
            Feeds(("x", Floats([1, 3, 20, 20]))));

    private static Dictionary<string, Tensor> Feeds(params (string Name, Tensor Value)[] feeds) => feeds.ToDictionary(f => f.Name, f => f.Value);

    private static Tensor Floats(int[] shape, float low = -1f, float high = 1f, int seed = 1)
    {
        var random = new Random(shape.Sum() * 31 + seed);
        var data = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = low + (float)random.NextDouble() * (high - low);
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Integers in [0, <paramref name="bound"/>) plus <paramref name="offset"/>.</summary>
    private static Tensor Ids(int[] shape, int bound, long offset = 0)
    {
        var random = new Random(shape.Sum());
        var data = new long[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(bound) + offset;
        return Tensor.FromArray(data, shape);
    }
}
