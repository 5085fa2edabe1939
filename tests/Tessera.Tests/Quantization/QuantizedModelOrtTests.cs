using Tessera.Engine;
using Tessera.Engine.Quantization;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;
using Xunit.Abstractions;

namespace Tessera.Tests.Quantization;

/// <summary>
/// The PyTorch-exported BERT-, GPT- and ResNet-style models quantized by <see cref="ModelQuantizer"/> (calibrated on
/// one ONNX Runtime case's inputs, evaluated on another's): ONNX Runtime runs the written models (so they are standard
/// ONNX), Tessera's integer kernels agree with it, and both stay within the accuracy bar of the float model.
/// </summary>
public sealed class QuantizedModelOrtTests(ITestOutputHelper output)
{
    // "dynamic 7-bit": `--reduce-range` weights, which the byte kernels multiply on machines without VNNI.
    public static TheoryData<string, string, string> Models() => new()
    {
        { "bert", "bert_b3_s32", "dynamic" },
        { "bert", "bert_b3_s32", "static" },
        { "bert", "bert_b3_s32", "dynamic 7-bit" },
        { "gpt", "gpt_b2_s24", "dynamic" },
        { "gpt", "gpt_b2_s24", "static" },
        { "gpt", "gpt_b2_s24", "dynamic 7-bit" },
        { "gpt", "gpt_b2_s24", "static 7-bit" },
        { "resnet18", "resnet18_b1", "dynamic" },
        { "resnet18", "resnet18_b1", "static" },
        { "resnet18", "resnet18_b1", "dynamic 7-bit" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void AgreesWithOnnxRuntimeAndTheFloatModel(string modelName, string caseName, string mode)
    {
        string caseDir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName));
        var model = ModelReader.Load(Path.Combine(TestPaths.Cache, "models", modelName + ".onnx"));
        var calibration = ReadSet(model, Path.Combine(caseDir, "test_data_set_0"), "input");
        var evaluation = ReadSet(model, Path.Combine(caseDir, "test_data_set_1"), "input");
        var floatOutputs = ReadSet(model, Path.Combine(caseDir, "test_data_set_1"), "output");
        var quantized = ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            Mode = mode.StartsWith("static", StringComparison.Ordinal) ? QuantizationMode.Static : QuantizationMode.Dynamic,
            PerChannel = true,
            ReduceRange = mode.EndsWith("7-bit", StringComparison.Ordinal),
            Calibration = [calibration],
        });

        // The first integer convolution reads the image itself, so both runtimes see the same uint8 values: its int32
        // sums must be equal. Exposed as an extra output (which also keeps it out of fusion, so ConvInteger runs).
        string? exactProduct = quantized.Graph.Nodes.FirstOrDefault(n => n.OpType == "ConvInteger")?.Outputs[0];
        if (exactProduct is not null) quantized.Graph.Outputs.Add(new ValueInfo { Name = exactProduct, ElementType = DataType.Int32 });

        string dir = Directory.CreateTempSubdirectory("tessera-quantized-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            ModelWriter.Save(quantized, path);
            var outputs = quantized.Graph.Outputs.Select(o => o.Name).ToList();
            var ort = OnnxRuntimeNode.Run(path, evaluation, outputs);
            var tessera = new InferenceSession(ModelReader.Load(path)).Run(evaluation);
            if (exactProduct is not null) Assert.Equal(ort[exactProduct].ToArray<int>(), tessera[exactProduct].ToArray<int>());

            foreach (var (name, reference) in floatOutputs)
            {
                double quantizationError = MaxAbs(ort[name], reference);
                double disagreement = MaxAbs(tessera[name], ort[name]);
                string report = $"{modelName} {mode} {name}: |tessera - ort| {disagreement:G3}, |ort - fp32| {quantizationError:G3}, " +
                    $"cosine tessera/fp32 {Cosine(tessera[name], reference):F6}, tessera/ort {Cosine(tessera[name], ort[name]):F6}";
                output.WriteLine(report);

                // Both runtimes quantize the same float activations, but float work between products (normalization,
                // softmax, GELU) differs in the last bits, and an activation on a rounding boundary then lands one
                // step apart; the difference that follows is a fraction of the quantization error itself.
                Assert.True(Cosine(tessera[name], reference) >= 0.999, report);
                Assert.True(Cosine(tessera[name], ort[name]) >= 0.9995, report);
                Assert.True(disagreement <= quantizationError, report);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Dictionary<string, Tensor> ReadSet(OnnxModel model, string folder, string kind)
    {
        var values = kind == "input"
            ? model.Graph.Inputs.Where(i => !model.Graph.Initializers.ContainsKey(i.Name)).Select(i => i.Name).ToList()
            : model.Graph.Outputs.Select(o => o.Name).ToList();
        return values.Select((name, k) => (name, file: Path.Combine(folder, $"{kind}_{k}.pb")))
            .Where(p => File.Exists(p.file))
            .ToDictionary(p => p.name, p => TensorProtoFormat.ReadFile(p.file), StringComparer.Ordinal);
    }

    private static double MaxAbs(Tensor a, Tensor b)
    {
        Assert.Equal(a.Shape, b.Shape);
        var x = a.Span<float>();
        var y = b.Span<float>();
        double max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs((double)x[i] - y[i]));
        return max;
    }

    private static double Cosine(Tensor a, Tensor b)
    {
        var x = a.Span<float>();
        var y = b.Span<float>();
        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            xx += (double)x[i] * x[i];
            yy += (double)y[i] * y[i];
        }

        return dot / Math.Sqrt(xx * yy);
    }
}
