using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Quantization;

/// <summary>
/// A MatMul of two activations as `tessera quantize` and ONNX Runtime's quantize_dynamic write it (DynamicQuantizeLinear
/// on each input → MatMulInteger → Cast → Mul(a_scale · b_scale)) against ONNX Runtime on the same model: the int32
/// product exactly (MatMulInteger with a B packed every run, batched and broadcast), and the float result exactly too,
/// both through that chain and through the fused QuantizedMatMul that quantizes both operands itself.
/// </summary>
public sealed class ActivationMatMulOrtTests
{
    public static TheoryData<int[], int[], int> Shapes() => new()
    {
        { [2, 3, 7, 20], [2, 3, 20, 18], 1 },
        { [2, 3, 7, 20], [1, 3, 20, 18], 2 },
        { [4, 5, 33], [33, 17], 2 },
        { [6, 130, 64], [6, 64, 130], 1 },
        { [6, 130, 64], [6, 64, 130], 2 },
        { [2, 9, 5], [2, 5, 3], 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesOnnxRuntimeExactly(int[] aShape, int[] bShape, int threads)
    {
        var random = new Random(aShape.Sum() + bShape.Sum() + threads);
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["A"] = Random(random, aShape, -1.5f, 2.5f),
            ["B"] = Random(random, bShape, 0.25f, 3f), // all positive: B's zero point 0, the range from 0 up
        };

        var exposed = Model(aShape, bShape, exposeProduct: true);
        var fused = Model(aShape, bShape, exposeProduct: false);
        var options = new SessionOptions { Threads = threads };
        Assert.Contains(GraphOptimizer.Optimize(exposed, options).Graph.Nodes, n => n.OpType == "MatMulInteger");
        Assert.Contains(GraphOptimizer.Optimize(fused, options).Graph.Nodes, n => n.OpType == "QuantizedMatMul" && n.Inputs[3] == "B");

        string dir = Directory.CreateTempSubdirectory("tessera-activation-matmul-").FullName;
        try
        {
            foreach (var (model, outputs) in new[] { (exposed, new[] { "P", "Y" }), (fused, new[] { "Y" }) })
            {
                string path = Path.Combine(dir, "model.onnx");
                ModelWriter.Save(model, path);
                var ort = OnnxRuntimeNode.Run(path, inputs, outputs);
                var session = new InferenceSession(ModelReader.Load(path), options);
                var tessera = session.Run(inputs);
                foreach (string name in outputs)
                {
                    Assert.Equal(ort[name].Shape, tessera[name].Shape);
                    Assert.Equal(ort[name].Bytes.ToArray(), tessera[name].Bytes.ToArray());
                }

                // A second run packs B again into the buffers the first made: still the same values.
                Assert.Equal(ort["Y"].Bytes.ToArray(), session.Run(inputs)["Y"].Bytes.ToArray());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static OnnxModel Model(int[] aShape, int[] bShape, bool exposeProduct)
    {
        var builder = new GraphBuilder()
            .Input("A", DataType.Float32, aShape.Cast<object>().ToArray())
            .Input("B", DataType.Float32, bShape.Cast<object>().ToArray())
            .Node("DynamicQuantizeLinear", ["A"], ["Aq", "As", "Az"], "quantize_a")
            .Node("DynamicQuantizeLinear", ["B"], ["Bq", "Bs", "Bz"], "quantize_b")
            .Node("MatMulInteger", ["Aq", "Bq", "Az", "Bz"], ["P"], "product")
            .Node("Cast", ["P"], ["F"], "cast", GraphBuilder.Int("to", (long)DataType.Float32))
            .Node("Mul", ["As", "Bs"], ["S"], "scales")
            .Node("Mul", ["F", "S"], ["Y"], "dequantize");
        if (exposeProduct) builder.Output("P", DataType.Int32);
        return builder.Output("Y", DataType.Float32).Build();
    }

    private static Tensor Random(Random random, int[] shape, float low, float high)
    {
        var values = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = low + ((high - low) * random.NextSingle());
        return Tensor.FromArray(values, shape);
    }
}
