using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Engine;

/// <summary>The session's memory plan: storage recycled by value lifetime, views respected, and no allocation in steady state.</summary>
public class SteadyStateTests
{
    private const int Channels = 8;
    private const int Plane = 64 * 64;

    // Every operator here comes from a family whose kernels allocate nothing per run for fixed shapes.
    private static OnnxModel AllocationFreeModel()
    {
        var random = new Random(5);
        Tensor Values(params int[] shape)
        {
            var data = new float[ShapeMath.ElementCount(shape)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble() + 0.5f;
            return Tensor.FromArray(data, shape);
        }

        var condition = new bool[Plane];
        for (int i = 0; i < Plane; i++) condition[i] = i % 3 != 0;
        return new GraphBuilder()
            .Input("x", DataType.Float32, 2, Channels, 64, 64)
            .Initializer("scale", Values(Channels)).Initializer("shift", Values(Channels))
            .Initializer("mean", Values(Channels)).Initializer("var", Values(Channels))
            .Initializer("bias", Values(Channels, 1, 1))
            .Initializer("shape", Tensor.FromArray(new long[] { 2, Channels, Plane }, 3))
            .Initializer("axes", Tensor.FromArray(new long[] { 0 }, 1))
            .Initializer("ln_scale", Values(Plane)).Initializer("ln_bias", Values(Plane))
            .Initializer("condition", Tensor.FromArray(condition, Plane))
            .Node("BatchNormalization", ["x", "scale", "shift", "mean", "var"], ["bn"])
            .Node("Relu", ["bn"], ["relu"])
            .Node("Add", ["relu", "bias"], ["biased"])
            .Node("Mul", ["biased", "biased"], ["squared"])
            .Node("Sigmoid", ["squared"], ["sigmoid"])
            .Node("Reshape", ["sigmoid", "shape"], ["rows"])
            .Node("Unsqueeze", ["rows", "axes"], ["unsqueezed"])
            .Node("Squeeze", ["unsqueezed", "axes"], ["squeezed"])
            .Node("LayerNormalization", ["squeezed", "ln_scale", "ln_bias"], ["normalized"], "", GraphBuilder.Int("axis", -1))
            .Node("Softmax", ["normalized"], ["softmax"], "", GraphBuilder.Int("axis", -1))
            .Node("Where", ["condition", "softmax", "normalized"], ["selected"])
            .Node("Flatten", ["selected"], ["y"], "", GraphBuilder.Int("axis", 1))
            .Output("y")
            .Output("biased")
            .Build(17);
    }

    private static Dictionary<string, Tensor> Input(int seed)
    {
        var random = new Random(seed);
        var data = new float[2 * Channels * Plane];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 4 - 2);
        return new() { ["x"] = Tensor.FromArray(data, 2, Channels, 64, 64) };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SteadyStateRunsAllocateNothing(int threads)
    {
        var session = new InferenceSession(AllocationFreeModel(), new SessionOptions { Threads = threads });
        var inputs = Input(1);
        var expected = session.Run(inputs);
        var outputs = expected.ToDictionary(p => p.Key, p => Tensor.AllocateZeroed(p.Value.DataType, p.Value.Shape));
        session.Run(inputs, outputs); // settles the arena and the tensor headers

        // Per thread (the caller's and its workers'), so that tests running in parallel do not count.
        Assert.Equal(0, SteadyAllocation.LeastBytesPerRun(() => session.Run(inputs, outputs)));
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.ToArray<float>(), outputs[name].ToArray<float>());
        }
    }

    [Fact]
    public void OutputsBelongToTheCallerAcrossRuns()
    {
        var session = new InferenceSession(AllocationFreeModel());
        var first = session.Run(Input(1));
        float[] firstValues = first["y"].ToArray<float>();
        var second = session.Run(Input(2));
        Assert.NotEqual(firstValues, second["y"].ToArray<float>());
        Assert.Equal(firstValues, first["y"].ToArray<float>()); // not overwritten by the second run
        Assert.Equal(firstValues, session.Run(Input(1))["y"].ToArray<float>());
    }

    [Fact]
    public void StorageUnderALiveViewIsNotRecycled()
    {
        // relu's slot dies after Reshape, but the view over its storage lives until Add; Neg's output has the same
        // size and would take that storage if the arena tracked tensors instead of storage owners.
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 4)
            .Initializer("square", Tensor.FromArray(new long[] { 2, 2 }, 2))
            .Node("Relu", ["x"], ["relu"])
            .Node("Reshape", ["relu", "square"], ["view"])
            .Node("Neg", ["x"], ["negated"])
            .Node("Reshape", ["negated", "square"], ["negated_view"])
            .Node("Mul", ["view", "negated_view"], ["y"])
            .Output("y")
            .Build();
        var session = new InferenceSession(model);
        for (int run = 0; run < 3; run++)
        {
            var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new[] { -1f, 2f, -3f, 4f }, 4) })["y"];
            Assert.Equal(new[] { 0f, -4f, 0f, -16f }, y.ToArray<float>());
        }
    }

    [Fact]
    public void RunIntoRejectsMismatchedOutputTensors()
    {
        var session = new InferenceSession(AllocationFreeModel());
        var e = Assert.Throws<InferenceException>(() => session.Run(Input(1), new Dictionary<string, Tensor> { ["y"] = Tensor.AllocateZeroed(DataType.Float32, [3]) }));
        Assert.Equal($"output 'y' is float32[2,{Channels * Plane}], but the tensor given for it is float32[3]", e.Message);
        e = Assert.Throws<InferenceException>(() => session.Run(Input(1), new Dictionary<string, Tensor> { ["nope"] = Tensor.Scalar(1f) }));
        Assert.Equal("the model has no output named 'nope'; its outputs are: y, biased", e.Message);
    }

    [Fact]
    public void SizeClassesCoverEveryLengthWithAtMostAQuarterSlack()
    {
        foreach (int bytes in new[] { 0, 1, 64, 65, 80, 81, 127, 128, 129, 1000, 4096, 4097, 1 << 20, (1 << 20) + 1, int.MaxValue - 64 })
        {
            int size = BufferArena.ClassBytes(BufferArena.SizeClassOf(bytes));
            Assert.True(size >= bytes, $"{bytes} -> {size}");
            Assert.True(bytes <= 64 || size <= bytes * 1.25 + 1, $"{bytes} -> {size}");
        }
    }
}
