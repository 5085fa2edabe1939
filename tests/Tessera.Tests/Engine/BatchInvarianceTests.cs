using Tessera.Engine;
using Tessera.Tensors;
using Tessera.Tests.Support;
using Xunit;

namespace Tessera.Tests.Engine;

/// <summary>
/// A row's result must not depend on how many other rows share its batch: data-parallel replicas run slices of a
/// batch and their concatenation must equal the single-node run bit for bit. GEMMs take different paths for a
/// handful of rows (matrix-vector shaped) than for many, so these check every path against the blocked one, with
/// a depth of several Kc blocks (where summation order differs first).
/// </summary>
public sealed class BatchInvarianceTests
{
    private const int Depth = 1100;

    public static TheoryData<string, int> Cases() => new()
    {
        { "gemm-constant-weight", 1 }, { "gemm-constant-weight", 2 },
        { "gemm-computed-weight", 1 }, { "gemm-computed-weight", 2 },
        { "gemm-computed-weight-transposed", 1 },
        { "matmul-three-columns", 1 }, { "matmul-three-columns", 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryRowHasTheSameBitsWhateverTheBatchSize(string kind, int threads)
    {
        var (model, columns) = Build(kind);
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        var random = new Random(7);
        const int batch = 11;
        var x = Random(random, batch, Depth);
        var extra = kind == "gemm-constant-weight" ? null
            : kind.EndsWith("transposed", StringComparison.Ordinal) ? Random(random, columns, Depth) : Random(random, Depth, columns);
        var whole = session.Run(Feeds(x, extra))["y"].ToArray<float>();
        foreach (int rows in new[] { 1, 2, 3, 4, 5, 8 })
        {
            for (int start = 0; start + rows <= batch; start += rows)
            {
                var part = session.Run(Feeds(Rows(x, start, rows), extra))["y"].ToArray<float>();
                var expected = whole.AsSpan(start * columns, rows * columns).ToArray();
                Assert.True(expected.SequenceEqual(part), $"{kind}: rows {start}..{start + rows - 1} run alone differ from the same rows in a batch of {batch}");
            }
        }
    }

    [Fact]
    public void ResNetRowsOfABatchOfSixEqualThemRunAsOneAndFive()
    {
        var model = Tessera.Onnx.Io.ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "resnet18.onnx"));
        var session = new InferenceSession(model, new SessionOptions { Threads = 2 });
        var image = Random(new Random(11), 6, 3 * 224 * 224);
        var whole = session.Run(new Dictionary<string, Tensor> { ["image"] = Reshaped(image, 6) })["logits"].ToArray<float>();
        int columns = whole.Length / 6;
        foreach (var (start, rows) in new[] { (0, 1), (1, 5) })
        {
            var part = session.Run(new Dictionary<string, Tensor> { ["image"] = Reshaped(Rows(image, start, rows), rows) })["logits"].ToArray<float>();
            Assert.True(whole.AsSpan(start * columns, rows * columns).SequenceEqual(part), $"resnet18 rows {start}..{start + rows - 1} alone differ from the batch of 6");
        }
    }

    private static Tensor Reshaped(Tensor flat, int rows)
    {
        var t = Tensor.Allocate(DataType.Float32, [rows, 3, 224, 224]);
        flat.Span<float>().CopyTo(t.Span<float>());
        return t;
    }

    private static (Tessera.Onnx.Graph.OnnxModel Model, int Columns) Build(string kind)
    {
        var random = new Random(3);
        var builder = new GraphBuilder().Input("x", DataType.Float32, "n", Depth);
        switch (kind)
        {
            case "gemm-constant-weight":
                builder.Initializer("w", Random(random, Depth, 70)).Initializer("b", Random(random, 70))
                    .Node("Gemm", ["x", "w", "b"], ["y"]);
                return (builder.Output("y").Build(), 70);
            case "gemm-computed-weight":
                builder.Input("w", DataType.Float32, Depth, 70).Initializer("b", Random(random, 70)).Node("Gemm", ["x", "w", "b"], ["y"]);
                return (builder.Output("y").Build(), 70);
            case "gemm-computed-weight-transposed":
                builder.Input("w", DataType.Float32, 70, Depth).Node("Gemm", ["x", "w"], ["y"], "", GraphBuilder.Int("transB", 1));
                return (builder.Output("y").Build(), 70);
            default:
                builder.Input("w", DataType.Float32, Depth, 3).Node("MatMul", ["x", "w"], ["y"]);
                return (builder.Output("y").Build(), 3);
        }
    }

    private static Dictionary<string, Tensor> Feeds(Tensor x, Tensor? w) =>
        w is null ? new() { ["x"] = x } : new() { ["x"] = x, ["w"] = w };

    private static Tensor Random(Random random, params int[] shape)
    {
        var t = Tensor.Allocate(DataType.Float32, shape);
        foreach (ref float v in t.Span<float>()) v = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    private static Tensor Rows(Tensor x, int start, int rows)
    {
        var part = Tensor.Allocate(DataType.Float32, [rows, x.Shape[1]]);
        x.Span<float>().Slice(start * x.Shape[1], rows * x.Shape[1]).CopyTo(part.Span<float>());
        return part;
    }
}
