using Tessera.Engine;
using Tessera.Onnx.Averaging;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Aggregation;

/// <summary>
/// Parameter averaging of perturbed copies of the dense reference model against a weighted sum written out here,
/// the averaged model run next to a model built from that reference, and the differences reported for mismatches.
/// </summary>
public sealed class ModelAveragingTests
{
    internal static string DenseModel => Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "dense.onnx");

    /// <summary>The dense model with every float initializer perturbed by seeded noise (and bias tensors scaled).</summary>
    internal static OnnxModel Perturbed(int seed)
    {
        var model = ModelReader.Load(DenseModel);
        var random = new Random(seed);
        foreach (var (name, t) in model.Graph.Initializers.ToArray())
        {
            var copy = t.Clone();
            var span = copy.Span<float>();
            for (int i = 0; i < span.Length; i++) span[i] += (float)((random.NextDouble() - 0.5) * 0.2);
            model.Graph.Initializers[name] = copy;
        }

        return model;
    }

    /// <summary>sum_m w_m * x_m in float64, in model order, rounded to float32: the definition, written plainly.</summary>
    internal static float[] Reference(OnnxModel[] models, double[] weights, string initializer)
    {
        int n = models[0].Graph.Initializers[initializer].Length;
        var result = new float[n];
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int m = 0; m < models.Length; m++) sum += weights[m] * models[m].Graph.Initializers[initializer].Span<float>()[i];
            result[i] = (float)sum;
        }

        return result;
    }

    [Fact]
    public void ThreePerturbedModelsAverageToTheWeightedSumAndRun()
    {
        OnnxModel[] models = [Perturbed(1), Perturbed(2), Perturbed(3)];
        double[] weights = [0.2, 0.3, 0.5];
        var result = ModelAverager.Average(models, weights);
        Assert.Equal(8, result.AveragedTensors);
        Assert.Equal(models[0].Graph.ParameterCount, result.AveragedValues);

        var reference = ModelReader.Load(DenseModel);
        foreach (string name in reference.Graph.Initializers.Keys)
        {
            float[] expected = Reference(models, weights, name);
            Assert.Equal(expected, result.Model.Graph.Initializers[name].ToArray<float>());
            reference.Graph.Initializers[name] = Tensor.FromArray(expected, reference.Graph.Initializers[name].Shape);
        }

        // The averaged model runs, and gives exactly what the model built from the reference parameters gives.
        var input = Tensor.Allocate(DataType.Float32, [4, 100]);
        var random = new Random(9);
        for (int i = 0; i < input.Length; i++) input.Span<float>()[i] = (float)random.NextDouble();
        var feeds = new Dictionary<string, Tensor> { ["input"] = input };
        var got = new InferenceSession(result.Model).Run(feeds)["output"].ToArray<float>();
        var want = new InferenceSession(reference).Run(feeds)["output"].ToArray<float>();
        Assert.Equal(want, got);

        // A model differs from the average; the inputs were not modified.
        Assert.NotEqual(new InferenceSession(models[0]).Run(feeds)["output"].ToArray<float>(), got);
        Assert.Equal(Perturbed(1).Graph.Initializers["layers.0.weight"].ToArray<float>(), models[0].Graph.Initializers["layers.0.weight"].ToArray<float>());
    }

    [Fact]
    public void EqualWeightsByDefaultAndIdenticalTensorsStayExact()
    {
        OnnxModel[] models = [Perturbed(1), Perturbed(2)];
        var shared = models[0].Graph.Initializers["layers.3.bias"];
        models[1].Graph.Initializers["layers.3.bias"] = shared.Clone();
        var result = ModelAverager.Average(models);
        Assert.Equal([0.5, 0.5], result.Weights);
        Assert.Equal(7, result.AveragedTensors);
        Assert.Equal(1, result.IdenticalTensors);
        Assert.Equal(shared.ToArray<float>(), result.Model.Graph.Initializers["layers.3.bias"].ToArray<float>());
        Assert.Equal(Reference(models, [0.5, 0.5], "layers.0.weight"), result.Model.Graph.Initializers["layers.0.weight"].ToArray<float>());
    }

    [Fact]
    public void EveryFloatTypeIsAveragedAndIntegersMustBeEqual()
    {
        OnnxModel Make(double v) => new GraphBuilder()
            .Input("x", DataType.Float32, 2)
            .Initializer("f64", Tensor.FromArray(new[] { v, 2 * v }, 2))
            .Initializer("f16", Tensor.FromArray(new[] { (Half)v, (Half)(-v) }, 2))
            .Initializer("bf16", Tensor.FromArray(new[] { BFloat16.FromDouble(v), BFloat16.FromDouble(3 * v) }, 2))
            .Initializer("shape", Tensor.FromArray(new[] { 1L, 2L }, 2))
            .Node("Constant", [], ["c"], "const", new NodeAttribute { Name = "value", Kind = AttributeKind.Tensor, Tensor = Tensor.FromArray(new[] { (float)v }, 1) })
            .Node("Add", ["x", "c"], ["y"])
            .Output("y")
            .Build();
        var result = ModelAverager.Average([Make(1), Make(2)], [1, 3]);
        var g = result.Model.Graph;
        Assert.Equal([1.75, 3.5], g.Initializers["f64"].ToArray<double>());
        Assert.Equal([(Half)1.75, (Half)(-1.75)], g.Initializers["f16"].ToArray<Half>());
        Assert.Equal([1.75f, 5.25f], g.Initializers["bf16"].ToArray<BFloat16>().Select(b => b.ToSingle()));
        Assert.Equal([1L, 2L], g.Initializers["shape"].ToArray<long>());
        Assert.Equal([1.75f], g.Nodes[0].Attributes["value"].Tensor!.ToArray<float>());
        Assert.Equal(4, result.AveragedTensors);
        Assert.Equal(1, result.CheckedEqualTensors);
        var y = new InferenceSession(result.Model).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 1f, 2f }, 2) })["y"];
        Assert.Equal([2.75f, 3.75f], y.ToArray<float>());
    }

    [Fact]
    public void DifferencesAreListedOneLineEach()
    {
        static GraphBuilder Base(string weight = "w", int rows = 3, long transB = 0, long[]? shape = null) => new GraphBuilder()
            .Input("x", DataType.Float32, "N", 3)
            .Initializer(weight, Tensor.AllocateZeroed(DataType.Float32, [rows, 2]))
            .Initializer("shape", Tensor.FromArray(shape ?? [-1L, 2L], 2))
            .Node("Gemm", ["x", weight], ["h"], "gemm", GraphBuilder.Int("transB", transB))
            .Node("Reshape", ["h", "shape"], ["y"], "reshape")
            .Output("y");

        IReadOnlyList<string> Diff(OnnxModel b) => Assert.Throws<ModelMismatchException>(
            () => ModelAverager.Average([Base().Build(), b], null, ["a.onnx", "b.onnx"])).Differences;

        Assert.Equal(["node 0 'gemm' (Gemm): attribute transB is 0 in a.onnx, 1 in b.onnx"], Diff(Base(transB: 1).Build()));
        Assert.Equal(["initializer 'w': float32[3,2] in a.onnx, float32[4,2] in b.onnx"], Diff(Base(rows: 4).Build()));
        Assert.Equal(
            ["initializer 'shape' (int64[2]) differs at element 1: 2 in a.onnx, 4 in b.onnx (int64 tensors are not averaged and must be equal)"],
            Diff(Base(shape: [-1L, 4L]).Build()));
        Assert.Equal(["opset ai.onnx: 13 in a.onnx, 17 in b.onnx"], Diff(Base().Build(opset: 17)));
        Assert.Equal(
            [
                "node 0 'gemm' (Gemm): input 1 is 'w' in a.onnx, 'v' in b.onnx",
                "initializer 'w' (float32[3,2]) is in a.onnx but not in b.onnx",
                "initializer 'v' (float32[3,2]) is in b.onnx but not in a.onnx",
            ],
            Diff(Base(weight: "v").Build()));

        var relu = Base().Build();
        relu.Graph.Nodes[1] = new OnnxNode { OpType = "Relu", Name = "relu", Inputs = { "h" }, Outputs = { "y" } };
        Assert.Equal(["node 1 'reshape': Reshape in a.onnx, Relu in b.onnx", "initializer 'shape' (int64[2]) is in a.onnx but not in b.onnx"],
            Diff(WithoutInitializer(relu, "shape")));

        var extra = Base().Node("Relu", ["y"], ["z"]).Build();
        extra.Graph.Outputs[0] = new ValueInfo { Name = "z" };
        Assert.Equal(["output 0: 'y' in a.onnx, 'z' in b.onnx", "node count: 2 in a.onnx, 3 in b.onnx"], Diff(extra));

        var renamedInput = Base().Build();
        renamedInput.Graph.Inputs[0] = new ValueInfo { Name = "x", ElementType = DataType.Float16, Shape = [Dimension.Named("batch"), Dimension.Known(3)] };
        Assert.Equal(["input 0: 'x' float32[N,3] in a.onnx, 'x' float16[batch,3] in b.onnx"], Diff(renamedInput));
    }

    [Fact]
    public void BadWeightsAndTooFewModelsAreRejected()
    {
        var m = Perturbed(1);
        Assert.Contains("at least two models", Assert.Throws<ArgumentException>(() => ModelAverager.Average([m])).Message);
        Assert.Contains("1 weight(s) for 2 models", Assert.Throws<ArgumentException>(() => ModelAverager.Average([m, m], [1])).Message);
        Assert.Contains("weight 2 is -1", Assert.Throws<ArgumentException>(() => ModelAverager.Average([m, m], [1, -1])).Message);
        Assert.Contains("weight 1 is NaN", Assert.Throws<ArgumentException>(() => ModelAverager.Average([m, m], [double.NaN, 1])).Message);
        Assert.Contains("sum to 0", Assert.Throws<ArgumentException>(() => ModelAverager.Average([m, m], [0, 0])).Message);
    }

    private static OnnxModel WithoutInitializer(OnnxModel model, string name)
    {
        model.Graph.Initializers.Remove(name);
        return model;
    }
}
