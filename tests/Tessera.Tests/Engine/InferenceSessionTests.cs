using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Engine;

public class InferenceSessionTests
{
    private static OnnxModel AddModel() => new GraphBuilder()
        .Input("x", DataType.Float32, "N", 3)
        .Initializer("w", Tensor.FromArray(new[] { 1f, 2f, 3f }, 1, 3))
        .Initializer("w2", Tensor.FromArray(new[] { 10f, 20f, 30f }, 1, 3))
        .Node("Add", ["w", "w2"], ["bias"], "fold_me")
        .Node("Neg", ["x"], ["nx"], "neg")
        .Node("Add", ["nx", "nx"], ["y"], "add")
        .Output("y")
        .Build();

    private static SessionOptions Options => new() { Registry = TestKernels.Registry() };

    [Fact]
    public void RunsAndFoldsConstantNodes()
    {
        var session = new InferenceSession(AddModel(), Options);
        Assert.Equal(2, session.StepCount); // the Add of two initializers was computed once, at creation
        var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 1f, 2f, 3f }, 1, 3) })["y"];
        Assert.Equal(new[] { -2f, -4f, -6f }, y.ToArray<float>());
    }

    [Fact]
    public void OutputsThatAreConstantsAreTheCallersToChange()
    {
        var session = new InferenceSession(AddModel2(), Options);
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 1f, 2f, 3f }, 1, 3) };
        var first = session.Run(feeds)["bias"];
        Assert.Equal(new[] { 11f, 22f, 33f }, first.ToArray<float>());
        first.Span<float>()[0] = -1f;
        Assert.Equal(new[] { 11f, 22f, 33f }, session.Run(feeds)["bias"].ToArray<float>());
    }

    [Fact]
    public void ProfilingTimesEveryStepOfTheRunsInBetween()
    {
        var session = new InferenceSession(AddModel(), Options);
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { 1f, 2f, 3f }, 1, 3) };
        session.Run(feeds);
        Assert.Throws<InvalidOperationException>(() => session.StopProfiling());
        session.StartProfiling();
        session.Run(feeds);
        session.Run(feeds, new Dictionary<string, Tensor> { ["y"] = Tensor.Allocate(DataType.Float32, [1, 3]) });
        var profile = session.StopProfiling();
        session.Run(feeds);
        Assert.Equal(2, profile.Runs);
        Assert.Equal(["neg", "add"], profile.Nodes.Select(n => n.Name));
        Assert.Equal(["Neg", "Add"], profile.Nodes.Select(n => n.OpType));
        Assert.All(profile.Nodes, n => Assert.True(n.TotalMs > 0));
        Assert.Equal(2, profile.ByOperator().Count);
        Assert.Equal(profile.TotalMs, profile.ByOperator().Sum(o => o.TotalMs), 9);
    }

    private static OnnxModel AddModel2()
    {
        var model = AddModel();
        model.Graph.Outputs.Add(new ValueInfo { Name = "bias" });
        return model;
    }

    [Theory]
    [InlineData("missing", "missing input 'x' (float32[N,3])")]
    [InlineData("extra", "the model has no input named 'z'; its inputs are: x")]
    [InlineData("dtype", "input 'x' must be float32, got int64")]
    [InlineData("shape", "input 'x' has shape [1,4], but the model expects [N,3]")]
    [InlineData("rank", "input 'x' has shape [3], but the model expects [N,3]")]
    public void RejectsBadInputsWithOneLine(string kind, string expected)
    {
        var session = new InferenceSession(AddModel(), Options);
        var feeds = kind switch
        {
            "missing" => new Dictionary<string, Tensor>(),
            "extra" => new() { ["x"] = Tensor.AllocateZeroed(DataType.Float32, [1, 3]), ["z"] = Tensor.Scalar(1f) },
            "dtype" => new() { ["x"] = Tensor.AllocateZeroed(DataType.Int64, [1, 3]) },
            "shape" => new() { ["x"] = Tensor.AllocateZeroed(DataType.Float32, [1, 4]) },
            _ => new Dictionary<string, Tensor> { ["x"] = Tensor.AllocateZeroed(DataType.Float32, [3]) },
        };
        var e = Assert.Throws<InferenceException>(() => session.Run(feeds));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void NamesTheUnsupportedOperatorAndNode()
    {
        var model = new GraphBuilder().Input("x", DataType.Float32, 2).Node("FancyOp", ["x"], ["y"], "my_node").Output("y").Build(11);
        var e = Assert.Throws<InferenceException>(() => new InferenceSession(model, Options));
        Assert.Equal("unsupported operator FancyOp at opset 11 in node 'my_node'", e.Message);
    }

    [Fact]
    public void ReportsAValueNobodyProduces()
    {
        var model = new GraphBuilder().Input("x", DataType.Float32, 2).Node("Neg", ["ghost"], ["y"], "n").Output("y").Build();
        var e = Assert.Throws<InferenceException>(() => new InferenceSession(model, Options));
        Assert.Contains("reads 'ghost', which no node, input or initializer provides", e.Message);
    }

    [Fact]
    public void ReportsACycle()
    {
        var model = new GraphBuilder().Input("x", DataType.Float32, 2)
            .Node("Add", ["x", "b"], ["a"], "n1").Node("Neg", ["a"], ["b"], "n2").Output("b").Build();
        var e = Assert.Throws<InferenceException>(() => new InferenceSession(model, Options));
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void KernelErrorsNameTheNode()
    {
        var model = new GraphBuilder().Input("a", DataType.Float32, 2).Input("b", DataType.Float32, "M")
            .Node("Add", ["a", "b"], ["y"], "adder").Output("y").Build();
        var session = new InferenceSession(model, Options);
        var e = Assert.Throws<InferenceException>(() => session.Run(new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.AllocateZeroed(DataType.Float32, [2]),
            ["b"] = Tensor.AllocateZeroed(DataType.Float32, [3]),
        }));
        Assert.StartsWith("node 'adder' (Add): test Add needs equal shapes", e.Message);
    }

    [Fact]
    public void TruncatedModelFileIsAOneLineError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tessera-trunc-{Guid.NewGuid():N}.onnx");
        byte[] bytes = Tessera.Onnx.Io.ModelWriter.Serialize(AddModel());
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var e = Assert.Throws<InferenceException>(() => InferenceSession.Load(path, Options));
            Assert.Contains("is not a valid ONNX model", e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
