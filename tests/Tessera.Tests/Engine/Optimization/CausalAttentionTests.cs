using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Kernels.Fused;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// causal-attention: an int8 attention under a causal mask skips Q·Kᵀ's tiles above the diagonal, the softmax's masked
/// columns and P·V's zero tail, with the bits of the graph without the pass (byte for byte, run twice so the second
/// run's skipped tiles hold the first run's values).
/// </summary>
public class CausalAttentionTests
{
    private const float Lowest = float.MinValue;

    public enum MaskKind
    {
        Causal,
        PastOffset,
        Random,
        AllKept,
        LooksCausal,
    }

    [Theory]
    [InlineData(MaskKind.Causal, 1, false)]
    [InlineData(MaskKind.Causal, 2, false)]
    [InlineData(MaskKind.Causal, 1, true)]
    [InlineData(MaskKind.Causal, 2, true)]
    [InlineData(MaskKind.PastOffset, 1, true)]
    [InlineData(MaskKind.PastOffset, 2, false)]
    [InlineData(MaskKind.Random, 1, true)]
    [InlineData(MaskKind.AllKept, 2, true)]
    [InlineData(MaskKind.LooksCausal, 1, true)]
    [InlineData(MaskKind.LooksCausal, 2, false)]
    public void WhereMaskedAttentionKeepsTheBits(MaskKind kind, int threads, bool transposedK)
    {
        int sq = kind == MaskKind.PastOffset ? 21 : 70, sk = 70;
        var keep = Keep(kind, sq, sk);
        var model = WhereAttention(sq, sk, transposedK);
        AssertPassApplies(model, threads);
        for (int seed = 0; seed < 2; seed++)
        {
            var feeds = Feeds(seed, sq, sk, transposedK);
            feeds["keep"] = Tensor.FromArray(keep, sq, sk);
            AssertSameBits(model, feeds, threads);
        }
    }

    /// <summary>An additive mask holding values the skip must not trust (-inf, NaN, huge) in rows' kept columns, and scores too large for the bound.</summary>
    [Theory]
    [InlineData(1, 1f)]
    [InlineData(2, 1f)]
    [InlineData(1, 1e22f)]
    [InlineData(2, 1e26f)]
    public void AdditiveMaskWithValuesTheSkipCannotTrustKeepsTheBits(int threads, float qScale)
    {
        const int s = 64;
        var keep = Keep(MaskKind.Causal, s, s);
        var values = new float[s * s];
        for (int i = 0; i < s; i++)
        {
            for (int j = 0; j < s; j++) values[(i * s) + j] = (i % 5) switch
            {
                0 => j == i / 2 ? float.NegativeInfinity : 0f,
                1 => j == 0 ? float.NaN : 0f,
                2 => j == i ? 2e28f : -1f,
                3 => j == i ? -2e29f : 0.5f,
                _ => j == i ? 5e27f : 0f,
            };
        }

        var model = AdditiveAttention(s);
        AssertPassApplies(model, threads);
        var feeds = Feeds(7, s, s, transposedK: false);
        if (qScale != 1f) feeds["q"] = Scaled(feeds["q"], qScale);
        feeds["keep"] = Tensor.FromArray(keep, s, s);
        feeds["a"] = Tensor.FromArray(values, s, s);
        AssertSameBits(model, feeds, threads);
    }

    /// <summary>The skip engages (Q·Kᵀ's kept lengths) for a causal mask, and not for scores beyond the bound.</summary>
    [Theory]
    [InlineData(1f, true)]
    [InlineData(1e26f, false)]
    public void QKWritesTheCausalRowsKeptLengthsWhenTheBoundHolds(float qScale, bool skips)
    {
        const int s = 70;
        var optimized = GraphOptimizer.Optimize(WhereAttention(s, s, transposedK: true), new SessionOptions());
        string kept = Single(optimized, "FusedScaleMaskSoftmax").Inputs[2];
        optimized.Graph.Outputs.Add(new ValueInfo { Name = kept, ElementType = DataType.Int32 });
        var feeds = Feeds(0, s, s, transposedK: true);
        if (qScale != 1f) feeds["q"] = Scaled(feeds["q"], qScale);
        feeds["keep"] = Tensor.FromArray(Keep(MaskKind.Causal, s, s), s, s);
        var lengths = new InferenceSession(optimized, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None }).Run(feeds)[kept].ToArray<int>();
        var expected = Enumerable.Range(0, s).Select(i => skips ? Math.Min((i + 16) / 16 * 16, s) : s);
        Assert.Equal(expected, lengths);
    }

    [Fact]
    public void KeptLengthsAreTheLastKeptColumnRoundedUpToTheBlockOrTheRow()
    {
        const int m = 6, n = 43;
        var mask = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++) mask[(i * n) + j] = j <= i * 9 ? 0f : i == 2 ? float.NegativeInfinity : Lowest;
        }

        mask[(3 * n) + 1] = float.NegativeInfinity; // a dropped column before kept ones: the row keeps everything
        mask[1] = float.NaN; // so does a NaN
        var kept = new int[m];
        bool any;
        unsafe
        {
            fixed (float* p = mask) any = MaskedTail.KeptLengths(p, m, n, kept);
        }

        Assert.True(any);
        Assert.Equal([n, 16, 32, n, n, n], kept);
    }

    private static void AssertPassApplies(OnnxModel model, int threads)
    {
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Threads = threads });
        var softmax = Single(optimized, "FusedScaleMaskSoftmax");
        Assert.Equal(3, softmax.Inputs.Count);
        var products = optimized.Graph.Nodes.Where(n => n.OpType == "QuantizedMatMul").ToArray();
        Assert.Equal(2, products.Length);
        Assert.Equal(softmax.Inputs[2], products[0].Outputs[1]);
        Assert.Equal(softmax.Inputs[2], products[1].Inputs[10]);

        // softmax-range-fusion left P unnormalised for P·V, which multiplies the rows' factors in (input 11).
        Assert.Equal(0, softmax.Attributes["normalize"].Int);
        Assert.Equal(softmax.Outputs[2], products[1].Inputs[11]);

        // Q·Kᵀ reads the mask, whose node the softmax fusion put just before the softmax: the list stays in order.
        var known = new HashSet<string>(optimized.Graph.Inputs.Select(i => i.Name).Concat(optimized.Graph.Initializers.Keys)) { string.Empty };
        foreach (var node in optimized.Graph.Nodes)
        {
            Assert.All(node.Inputs, input => Assert.Contains(input, known));
            known.UnionWith(node.Outputs);
        }
    }

    private static void AssertSameBits(OnnxModel model, Dictionary<string, Tensor> feeds, int threads)
    {
        // Without softmax-range-fusion either: it gives P·V the rows' factors to multiply in, which the causal rows'
        // +0 tails must not change, so the reference is P normalised by the softmax and quantized whole.
        var expected = new InferenceSession(model, new SessionOptions { Threads = threads, DisabledPasses = ["causal-attention", "softmax-range-fusion"] }).Run(feeds)["y"];
        var session = new InferenceSession(model, new SessionOptions { Threads = threads });
        for (int run = 0; run < 2; run++)
        {
            var actual = session.Run(feeds)["y"];
            Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
        }
    }

    // keep[i, j] for a query row i over key columns j.
    private static bool[] Keep(MaskKind kind, int sq, int sk)
    {
        var random = new Random(3);
        var keep = new bool[sq * sk];
        int past = sk - sq;
        for (int i = 0; i < sq; i++)
        {
            for (int j = 0; j < sk; j++)
            {
                keep[(i * sk) + j] = kind switch
                {
                    MaskKind.Causal or MaskKind.PastOffset => j <= i + past,
                    MaskKind.Random => random.Next(4) != 0,
                    MaskKind.AllKept => true,
                    // Causal but for a row masked whole, one that drops a past column, and some that keep a far future one.
                    _ => i == 9 ? false
                        : i == 20 ? j <= i && j != 3
                        : i % 7 == 0 ? j <= i || j == sk - 1 - i
                        : j <= i,
                };
            }
        }

        return keep;
    }

    private static Dictionary<string, Tensor> Feeds(int seed, int sq, int sk, bool transposedK) => new()
    {
        ["q"] = Random(10 + seed, 2, 3, sq, 16),
        ["k"] = transposedK ? Random(20 + seed, 2, sk, 3, 16) : Random(20 + seed, 2, 3, 16, sk),
        ["v"] = Random(30 + seed, 2, 3, sk, 24),
    };

    private static Tensor Scaled(Tensor t, float scale) => Tensor.FromArray(t.Span<float>().ToArray().Select(v => v * scale).ToArray(), t.Shape);

    // Q·Kᵀ → Div → Where(keep, ·, lowest) → Softmax → P·V, each product as `tessera quantize` writes one of two
    // activations (DynamicQuantizeLinear on both → MatMulInteger → Cast → Mul of the scales); K either [b, h, d, s] or
    // [b, s, h, d] behind a Transpose (which the transpose fusion folds into the product).
    private static OnnxModel WhereAttention(int sq, int sk, bool transposedK)
    {
        var b = Inputs(new GraphBuilder(), sq, sk, transposedK).Input("keep", DataType.Bool, sq, sk);
        b = Product(b, "q", "kt", "s", "qk");
        return Product(b.Initializer("c", Tensor.Scalar(4f))
                .Initializer("lowest", Tensor.Scalar(Lowest))
                .Node("Div", ["s", "c"], ["d"], "scale")
                .Node("Where", ["keep", "d", "lowest"], ["w"], "mask")
                .Node("Softmax", ["w"], ["p"], "softmax", GraphBuilder.Int("axis", -1)), "p", "v", "y", "pv")
            .Output("y", DataType.Float32)
            .Build();
    }

    // The same with an additive mask Where(keep, a, lowest) added to the scaled scores.
    private static OnnxModel AdditiveAttention(int s)
    {
        var b = Inputs(new GraphBuilder(), s, s, transposedK: false).Input("keep", DataType.Bool, s, s).Input("a", DataType.Float32, s, s);
        b = Product(b, "q", "kt", "s", "qk");
        return Product(b.Initializer("c", Tensor.Scalar(0.25f))
                .Initializer("lowest", Tensor.Scalar(Lowest))
                .Node("Mul", ["s", "c"], ["d"], "scale")
                .Node("Where", ["keep", "a", "lowest"], ["m"], "mask")
                .Node("Add", ["d", "m"], ["w"], "add")
                .Node("Softmax", ["w"], ["p"], "softmax", GraphBuilder.Int("axis", -1)), "p", "v", "y", "pv")
            .Output("y", DataType.Float32)
            .Build();
    }

    private static GraphBuilder Inputs(GraphBuilder b, int sq, int sk, bool transposedK)
    {
        b = b.Input("q", DataType.Float32, 2, 3, sq, 16).Input("v", DataType.Float32, 2, 3, sk, 24);
        return transposedK
            ? b.Input("k", DataType.Float32, 2, sk, 3, 16).Node("Transpose", ["k"], ["kt"], "k_transpose", GraphBuilder.Ints("perm", 0, 2, 3, 1))
            : b.Input("k", DataType.Float32, 2, 3, 16, sk).Node("Identity", ["k"], ["kt"], "k_identity");
    }

    private static GraphBuilder Product(GraphBuilder b, string x, string w, string y, string name) => b
        .Node("DynamicQuantizeLinear", [x], [$"{x}q", $"{x}s", $"{x}z"], $"{name}_quantize_x")
        .Node("DynamicQuantizeLinear", [w], [$"{w}q", $"{w}s", $"{w}z"], $"{name}_quantize_w")
        .Node("MatMulInteger", [$"{x}q", $"{w}q", $"{x}z", $"{w}z"], [$"{y}_i"], $"{name}_product")
        .Node("Cast", [$"{y}_i"], [$"{y}_f"], $"{name}_cast", GraphBuilder.Int("to", (long)DataType.Float32))
        .Node("Mul", [$"{x}s", $"{w}s"], [$"{y}_sc"], $"{name}_scales")
        .Node("Mul", [$"{y}_f", $"{y}_sc"], [y], $"{name}_dequantize");
}
