using System.Text;
using Tessera.Engine;
using Tessera.Engine.Quantization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Engine;

/// <summary>
/// Whole models with fixed shapes allocate no managed memory per inference once warmed up, counting the calling
/// thread and what the intra-op workers allocate for it (<see cref="ParallelRunner.HelperAllocatedBytesForCurrentThread"/>).
/// </summary>
public sealed class ModelSteadyStateTests
{
    // One line per model: a name and how to build the session's model and inputs.
    private static readonly Dictionary<string, Func<(OnnxModel Model, Dictionary<string, Tensor> Inputs)>> s_cases = new()
    {
        ["dense b64"] = () => (Cached("dense.onnx"), Feeds(("input", Floats(64, 100)))),
        ["bert b8 s128"] = () => (Cached("bert.onnx"), Feeds(("input_ids", Ids(8, 128)), ("attention_mask", Ones(8, 128)))),
        ["bert b1 s16"] = () => (Cached("bert.onnx"), Feeds(("input_ids", Ids(1, 16)), ("attention_mask", Ones(1, 16)))),
        ["bert b1 s40"] = () => (Cached("bert.onnx"), Feeds(("input_ids", Ids(1, 40)), ("attention_mask", Ones(1, 40)))),
        ["gpt b8 s128"] = () => (Cached("gpt.onnx"), Feeds(("input_ids", Ids(8, 128)))),
        ["gpt b1 s24"] = () => (Cached("gpt.onnx"), Feeds(("input_ids", Ids(1, 24)))),
        ["resnet18 b1"] = () => (Cached("resnet18.onnx"), Feeds(("image", Floats(1, 3, 224, 224)))),
        // The benchmark's own shapes (docs/benchmarks.md), whose per-thread scratch grows more than the small ones'.
        ["resnet18 b8"] = () => (Cached("resnet18.onnx"), Feeds(("image", Floats(8, 3, 224, 224)))),
        ["ppocr det 1x3x640x640"] = () => (Ocr("ch_PP-OCRv4_det_infer.onnx"), Feeds(("x", Floats(1, 3, 640, 640)))),
        ["ppocr rec 8x3x48x320"] = () => (Ocr("ch_PP-OCRv4_rec_infer.onnx"), Feeds(("x", Floats(8, 3, 48, 320)))),
        ["ppocr det 1x3x64x96"] = () => (Ocr("ch_PP-OCRv4_det_infer.onnx"), Feeds(("x", Floats(1, 3, 64, 96)))),
        ["ppocr rec 1x3x48x80"] = () => (Ocr("ch_PP-OCRv4_rec_infer.onnx"), Feeds(("x", Floats(1, 3, 48, 80)))),
        ["matmul 600x700x900 weight"] = () => (WeightMatMul(700, 900), Feeds(("a", Floats(600, 700)))),
        ["matmul 2x4x100x64 @ 2x4x64x120"] = () => (InputMatMul([2, 4, 100, 64], [2, 4, 64, 120]), Feeds(("a", Floats(2, 4, 100, 64)), ("b", Floats(2, 4, 64, 120)))),
        ["matmul 3x300x500 @ 500x260 input"] = () => (InputMatMul([3, 300, 500], [500, 260]), Feeds(("a", Floats(3, 300, 500)), ("b", Floats(500, 260)))),
        // int8 (`tessera quantize --mode dynamic --per-channel`): attention's products quantize a B packed every run.
        ["bert int8 b8 s128"] = () => (Quantized(Cached("bert.onnx")), Feeds(("input_ids", Ids(8, 128)), ("attention_mask", Ones(8, 128)))),
        ["gpt int8 b8 s128"] = () => (Quantized(Cached("gpt.onnx")), Feeds(("input_ids", Ids(8, 128)))),
        // 7-bit weights (`--reduce-range`): the byte kernels where the machine has no VNNI.
        ["bert int8 7-bit b8 s128"] = () => (Quantized(Cached("bert.onnx"), reduceRange: true), Feeds(("input_ids", Ids(8, 128)), ("attention_mask", Ones(8, 128)))),
        ["int8 matmul 2x4x100x64 @ 2x4x64x120 input"] = () => (Quantized(InputMatMul([2, 4, 100, 64], [2, 4, 64, 120])), Feeds(("a", Floats(2, 4, 100, 64)), ("b", Floats(2, 4, 64, 120)))),
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in s_cases.Keys)
        {
            data.Add(name, 1);
            data.Add(name, 2);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SteadyStateInferenceAllocatesNothing(string name, int threads)
    {
        var (model, inputs) = s_cases[name]();
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        var expected = session.Run(inputs);
        var outputs = expected.ToDictionary(p => p.Key, p => Tensor.AllocateZeroed(p.Value.DataType, p.Value.Shape));
        session.Run(inputs, outputs); // settles the arena, tensor headers and per-kernel scratch

        long perRun = SteadyAllocation.LeastBytesPerRun(() => session.Run(inputs, outputs));
        if (perRun != 0)
        {
            Assert.Fail($"{name} on {threads} thread(s) allocates {perRun:N0} bytes per inference: {ByOperator(session, inputs, outputs)}");
        }

        foreach (var (output, tensor) in expected)
        {
            Assert.Equal(tensor.ToArray<float>(), outputs[output].ToArray<float>());
        }
    }

    private static string ByOperator(InferenceSession session, Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> outputs)
    {
        var steps = session.Plan.Steps;
        session.Runner.StepAllocations = new long[steps.Length];
        session.Run(inputs, outputs);
        var text = new StringBuilder();
        for (int s = 0; s < steps.Length; s++)
        {
            if (session.Runner.StepAllocations[s] > 0)
            {
                text.Append($"{steps[s].Node.OpType} '{steps[s].Node.Name}' {session.Runner.StepAllocations[s]:N0}; ");
            }
        }

        return text.Length == 0 ? "outside the steps (session or output copies)" : text.ToString();
    }

    private static OnnxModel Cached(string file) => ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), file));

    private static OnnxModel Quantized(OnnxModel model, bool reduceRange = false) =>
        ModelQuantizer.Quantize(model, new QuantizationOptions { PerChannel = true, ReduceRange = reduceRange });

    private static OnnxModel Ocr(string file) => ModelReader.Load(Path.Combine(
        TestPaths.Require(Path.Combine(TestPaths.Cache, "npm", "node_modules", "@gutenye", "ocr-models", "assets")), file));

    private static OnnxModel WeightMatMul(int k, int n) => new GraphBuilder()
        .Input("a", DataType.Float32, "m", k)
        .Initializer("w", Floats(k, n))
        .Node("MatMul", ["a", "w"], ["y"])
        .Output("y")
        .Build();

    private static OnnxModel InputMatMul(int[] a, int[] b) => new GraphBuilder()
        .Input("a", DataType.Float32, a.Cast<object>().ToArray())
        .Input("b", DataType.Float32, b.Cast<object>().ToArray())
        .Node("MatMul", ["a", "b"], ["y"])
        .Output("y")
        .Build();

    private static Dictionary<string, Tensor> Feeds(params (string Name, Tensor Value)[] feeds) =>
        feeds.ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    private static Tensor Floats(params int[] shape)
    {
        var random = new Random(shape.Sum());
        var data = new float[ShapeMath.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return Tensor.FromArray(data, shape);
    }

    private static Tensor Ids(int batch, int sequence)
    {
        var random = new Random(batch * 1000 + sequence);
        var data = new long[batch * sequence];
        for (int i = 0; i < data.Length; i++) data[i] = random.Next(100);
        return Tensor.FromArray(data, batch, sequence);
    }

    private static Tensor Ones(int batch, int sequence) => Tensor.FromArray(Enumerable.Repeat(1L, batch * sequence).ToArray(), batch, sequence);
}
