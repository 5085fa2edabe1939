using Tessera.Engine;
using Tessera.Engine.Quantization;
using Tessera.Kernels.Quantization;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Quantization;

/// <summary>
/// Models quantized with 7-bit weights (<see cref="QuantizationOptions.ReduceRange"/>): the weights are within
/// [-64, 64], and a session whose products take the vpmaddubsw byte kernels gives the same bits as one kept on the
/// widened kernels (the sums are exact either way, and the epilogue is the same).
/// </summary>
public sealed class SevenBitModelTests
{
    [Theory]
    [InlineData("bert", 1)]
    [InlineData("bert", 2)]
    [InlineData("gpt", 1)]
    [InlineData("gpt", 2)]
    public void ByteKernelsGiveTheWidenedKernelsBits(string modelName, int threads)
    {
        var model = ModelReader.Load(Path.Combine(TestPaths.Cache, "models", modelName + ".onnx"));
        var quantized = ModelQuantizer.Quantize(model, new QuantizationOptions { PerChannel = true, ReduceRange = true });
        var weights = quantized.Graph.Initializers.Values.Where(t => t.DataType == DataType.Int8 && t.Rank == 2 && t.Length > 1000).ToList();
        Assert.NotEmpty(weights);
        Assert.All(weights, w => Assert.InRange(w.ToArray<sbyte>().Select(v => Math.Abs((int)v)).Max(), 1, WeightQuantizer.ReducedLimit));

        var random = new Random(5);
        var ids = Tensor.FromArray(Enumerable.Range(0, 2 * 40).Select(_ => (long)random.Next(1, 1000)).ToArray(), 2, 40);
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["input_ids"] = ids };
        if (modelName == "bert") feeds["attention_mask"] = Tensor.FromArray(Enumerable.Repeat(1L, 2 * 40).ToArray(), 2, 40);

        var bytes = Run(quantized, feeds, threads, bytesAllowed: true);
        var widened = Run(quantized, feeds, threads, bytesAllowed: false);
        foreach (var (name, value) in widened)
        {
            Assert.True(value.Bytes.SequenceEqual(bytes[name].Bytes), $"{modelName} {name}: the byte kernels' output differs from the widened kernels'");
        }
    }

    private static Dictionary<string, Tensor> Run(OnnxModel model, Dictionary<string, Tensor> feeds, int threads, bool bytesAllowed)
    {
        bool saved = QgemmConfig.BytesAllowed;
        try
        {
            // Read when the session packs its weights, so only its creation needs the switch.
            QgemmConfig.BytesAllowed = bytesAllowed;
            var session = new InferenceSession(model, new SessionOptions { Threads = threads });
            QgemmConfig.BytesAllowed = saved;
            return new Dictionary<string, Tensor>(session.Run(feeds), StringComparer.Ordinal);
        }
        finally
        {
            QgemmConfig.BytesAllowed = saved;
        }
    }
}
