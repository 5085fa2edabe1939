using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Engine;

/// <summary>Graph outputs computed straight into the caller's storage: values, the aliasing guard, views and repeats.</summary>
public class GraphOutputStorageTests
{
    private const int N = 24;

    // y = x·x (also read by a later node), z = Relu(y) reshaped (a view of the arena), s = y again under another name.
    private static OnnxModel Model() => new GraphBuilder()
        .Input("x", DataType.Float32, N, N)
        .Initializer("flat", Tensor.FromArray(new long[] { N * N }, 1))
        .Node("MatMul", ["x", "x"], ["y"])
        .Node("Relu", ["y"], ["r"])
        .Node("Reshape", ["r", "flat"], ["z"])
        .Node("Neg", ["y"], ["s"])
        .Output("y")
        .Output("z")
        .Output("s")
        .Build(17);

    private static Tensor Square(int seed)
    {
        var random = new Random(seed);
        var data = new float[N * N];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return Tensor.FromArray(data, N, N);
    }

    private static float[] Product(float[] a)
    {
        var c = new float[N * N];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int k = 0; k < N; k++) sum += (double)a[(i * N) + k] * a[(k * N) + j];
                c[(i * N) + j] = (float)sum;
            }

        return c;
    }

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var values = actual.ToArray<float>();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++) Assert.True(Math.Abs(expected[i] - values[i]) <= 1e-4f, $"element {i}: {values[i]}, expected {expected[i]}");
    }

    [Fact]
    public void OutputsComputedIntoTheCallersTensorsMatchAFreshRunAndTheArenaHoldsLess()
    {
        var x = Square(1);
        var feeds = new Dictionary<string, Tensor> { ["x"] = x };
        var plain = new InferenceSession(Model());
        var expected = plain.Run(feeds);
        var direct = new InferenceSession(Model());
        var outputs = expected.ToDictionary(p => p.Key, p => Tensor.AllocateZeroed(p.Value.DataType, p.Value.Shape));
        direct.Run(feeds, outputs);

        var product = Product(x.ToArray<float>());
        AssertClose(product, outputs["y"]);
        AssertClose(product.Select(v => Math.Max(v, 0)).ToArray(), outputs["z"]);
        AssertClose(product.Select(v => -v).ToArray(), outputs["s"]);
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.ToArray<float>(), outputs[name].ToArray<float>());
        }

        // y and s never took arena storage: the kernels wrote them into the caller's tensors.
        Assert.True(direct.ArenaBytes < plain.ArenaBytes, $"arena {direct.ArenaBytes} bytes with the caller's outputs, {plain.ArenaBytes} without");
    }

    [Fact]
    public void AnOutputTensorThatIsAlsoTheInputIsNotOverwrittenWhileRead()
    {
        var x = Square(2);
        var product = Product(x.ToArray<float>());
        var session = new InferenceSession(Model());
        var outputs = new Dictionary<string, Tensor>
        {
            ["y"] = x, // the MatMul reads x while it writes y: it must not write into x
            ["s"] = Tensor.Allocate(DataType.Float32, [N, N]),
        };
        session.Run(new Dictionary<string, Tensor> { ["x"] = x }, outputs);
        AssertClose(product, outputs["y"]);
        AssertClose(product.Select(v => -v).ToArray(), outputs["s"]);
    }

    [Fact]
    public void OneTensorGivenForTwoOutputsEndsAsTheLastOneWithoutCorruptingTheOther()
    {
        // s = yᵀ reads y across while it writes: had s been given y's storage, the Transpose would read what it wrote.
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, N, N)
            .Node("MatMul", ["x", "x"], ["y"])
            .Node("Transpose", ["y"], ["s"], "", GraphBuilder.Ints("perm", [1, 0]))
            .Output("y")
            .Output("s")
            .Build(17);
        var x = Square(3);
        var product = Product(x.ToArray<float>());
        var transposed = new float[N * N];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) transposed[(j * N) + i] = product[(i * N) + j];
        var shared = Tensor.Allocate(DataType.Float32, [N, N]);
        new InferenceSession(model).Run(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = shared, ["s"] = shared });
        // s was computed from y's true values elsewhere, then copied over y's: the copies go in output order.
        AssertClose(transposed, shared);
    }

    [Fact]
    public void AnAllocatorsTensorsAreTheOutputsAndEachRunGetsFreshOnes()
    {
        var x = Square(4);
        var product = Product(x.ToArray<float>());
        var session = new InferenceSession(Model());
        var given = new List<Tensor>();
        Tensor Allocate(DataType type, int[] shape)
        {
            var t = Tensor.Allocate(type, shape);
            given.Add(t);
            return t;
        }

        var feeds = new Dictionary<string, Tensor> { ["x"] = x };
        var first = session.Run(feeds, Allocate);
        var second = session.Run(feeds, Allocate);
        Assert.Equal(6, given.Count); // y, s and z per run (z, a view of the arena, copied into its own)
        foreach (var run in new[] { first, second })
        {
            Assert.All(run.Values, t => Assert.Contains(t, given));
            AssertClose(product, run["y"]);
            AssertClose(product.Select(v => Math.Max(v, 0)).ToArray(), run["z"]);
            AssertClose(product.Select(v => -v).ToArray(), run["s"]);
        }

        Assert.DoesNotContain(first.Values, t => second.Values.Contains(t));
    }
}
