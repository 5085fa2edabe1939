using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Kernels.Convolution;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;
using static Tessera.Tests.Engine.Optimization.OptimizationHarness;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// channel-block-layout: activations kept channel-blocked between convolutions give the bits of the NCHW graph, where
/// the kernels take them natively (ChannelBlockedConv on AVX-512) and where ConvKernel converts (other planes, tiers).
/// </summary>
public class ChannelBlockLayoutTests
{
    private const string Pass = "channel-block-layout";

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(8, 1)]
    [InlineData(8, 2)]
    public void ResNetLogitsAreByteIdenticalWithAndWithoutTheLayout(int batch, int threads)
    {
        var model = ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "resnet18.onnx"));
        var feeds = new Dictionary<string, Tensor> { ["image"] = Random(batch, batch, 3, 224, 224) };
        var blocked = Run(model, feeds, threads, [])["logits"];
        var nchw = Run(model, feeds, threads, [Pass])["logits"];
        Assert.True(nchw.Span<float>().SequenceEqual(blocked.Span<float>()), $"resnet18 b{batch} t{threads}: logits differ with the channel-blocked layout");

        // Every convolution but the stem runs ChannelBlockedConv, so each stage hands its activations on blocked: a
        // block's conv1 → conv2, a block's output → the next block or the next stage's strided conv1 and 1x1 downsample,
        // a downsample's output → conv2 as its residual sum. 4 in the first stage (its input comes from the pool), 5 in
        // the second and third, 4 in the last (its output goes to the pool): 18; none without ChannelBlockedConv.
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions());
        Assert.Equal(ChannelBlockedConv.IsSupported ? 18 : 0, optimized.Graph.Nodes.Count(n => n.Attributes.ContainsKey("y_blocked")));
    }

    [Theory]
    [InlineData(2, 14, 1)]
    [InlineData(2, 14, 2)]
    [InlineData(3, 14, 2)]
    [InlineData(2, 7, 2)]
    [InlineData(1, 70, 1)]
    [InlineData(1, 40, 2)]
    [InlineData(1, 41, 2)]
    public void HandWrittenBlockedOperandsGiveTheNchwBits(int batch, int size, int threads)
    {
        // a = relu(conv(x)) blocked; b = relu(conv(a) + x) blocked (NCHW sum); c = relu(conv(b) + a) NCHW (blocked sum);
        // d = conv(b, stride 2) NCHW; e = conv1x1(b, stride 2) NCHW, no activation (a downsample: ChannelBlockedConv only
        // because b is blocked); f = relu(conv(b) + a) blocked (blocked sum) and g = conv(f) blocked, no activation (both
        // finished by the AVX-512 micro-kernel from its registers, short tiles too), read by h = relu(conv(g)) NCHW. The 3x3 stride-1 ones on 70x70 planes (2.8% padding columns) run DirectConv2D: ConvKernel
        // converts there (and on every plane on tiers without ChannelBlockedConv); 14x14 and 7x7 ones run
        // ChannelBlockedConv (image by image, batch-wide). One image of 40x40 or 41x41 at 2 threads runs split by output
        // rows where X is blocked (b, c, and at 41x41 an odd number of rows in d and e), each thread filling its own rows.
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(size, batch, 64, size, size) };
        var expected = Run(Chain(size, blocked: false), feeds, threads, []);
        var actual = Run(Chain(size, blocked: true), feeds, threads, []);
        foreach (string name in new[] { "c", "d", "e", "h" })
        {
            Assert.True(expected[name].Span<float>().SequenceEqual(actual[name].Span<float>()), $"{name} n{batch} {size}x{size} t{threads}");
        }
    }

    [Fact]
    public void AnActivationReadByAnotherOperatorStaysNchw()
    {
        var feeds = new Dictionary<string, Tensor> { ["x"] = Random(5, 1, 64, 14, 14) };
        var model = TwoConvs().Node("Neg", ["a"], ["n"], "neg").Output("b").Output("n").Build();
        var optimized = Check(model, feeds);
        Assert.DoesNotContain(optimized.Graph.Nodes, n => n.Attributes.ContainsKey("y_blocked") || n.Attributes.ContainsKey("x_blocked"));

        var alone = Check(TwoConvs().Output("b").Build(), feeds);
        var first = Assert.Single(alone.Graph.Nodes, n => n.Outputs[0] == "a");
        Assert.Equal(ChannelBlockedConv.IsSupported, first.Attributes.ContainsKey("y_blocked"));
        Assert.DoesNotContain(alone.Graph.Nodes, n => n.Outputs[0] == "b" && n.Attributes.ContainsKey("y_blocked"));
    }

    [Fact]
    public void ABlockedOperandOfChannelsNotInWholeBlocksIsRejected()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, 1, 8, 14, 14)
            .Initializer("w", Random(1, 64, 8, 3, 3))
            .Node("FusedConv", ["x", "w"], ["y"], "conv", GraphBuilder.Ints("pads", 1, 1, 1, 1), GraphBuilder.Int("x_blocked", 1))
            .Output("y")
            .Build();
        model.Graph.Nodes[0].Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        var session = new InferenceSession(model, new SessionOptions { GraphOptimization = GraphOptimizationLevel.None });
        var error = Assert.Throws<InferenceException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = Random(2, 1, 8, 14, 14) }));
        Assert.Contains("channels in multiples of 16", error.Message, StringComparison.Ordinal);
    }

    private static IReadOnlyDictionary<string, Tensor> Run(OnnxModel model, Dictionary<string, Tensor> feeds, int threads, string[] disabled) =>
        new InferenceSession(model, new SessionOptions { Threads = threads, DisabledPasses = disabled }).Run(feeds);

    // x → Conv+Relu → a → Conv+Relu → b, 64 channels, 3x3 with padding 1.
    private static GraphBuilder TwoConvs() => new GraphBuilder()
        .Input("x", DataType.Float32, 1, 64, 14, 14)
        .Initializer("w0", Random(11, 64, 64, 3, 3)).Initializer("b0", Random(12, 64))
        .Initializer("w1", Random(13, 64, 64, 3, 3)).Initializer("b1", Random(14, 64))
        .Node("Conv", ["x", "w0", "b0"], ["c0"], "conv0", GraphBuilder.Ints("pads", 1, 1, 1, 1))
        .Node("Relu", ["c0"], ["a"], "relu0")
        .Node("Conv", ["a", "w1", "b1"], ["c1"], "conv1", GraphBuilder.Ints("pads", 1, 1, 1, 1))
        .Node("Relu", ["c1"], ["b"], "relu1");

    /// <summary>The FusedConvs of the hand-written test, with or without the layout attributes (run unoptimized).</summary>
    private static OnnxModel Chain(int size, bool blocked)
    {
        var pads = GraphBuilder.Ints("pads", 1, 1, 1, 1);
        var relu = GraphBuilder.Str("activation", "Relu");
        var strides = GraphBuilder.Ints("strides", 2, 2);
        NodeAttribute[] Layout(bool x, bool sum, bool y) => !blocked ? [pads, relu]
            : [pads, relu, GraphBuilder.Int("x_blocked", x ? 1 : 0), GraphBuilder.Int("sum_blocked", sum ? 1 : 0), GraphBuilder.Int("y_blocked", y ? 1 : 0)];
        var builder = new GraphBuilder().Input("x", DataType.Float32, "n", 64, size, size);
        for (int i = 0; i < 7; i++)
        {
            builder.Initializer($"w{i}", Random(20 + i, 64, 64, 3, 3)).Initializer($"b{i}", Random(30 + i, 64));
        }

        var model = builder
            .Node("FusedConv", ["x", "w0", "b0"], ["a"], "a", Layout(false, false, true))
            .Node("FusedConv", ["a", "w1", "b1", "x"], ["b"], "b", Layout(true, false, true))
            .Node("FusedConv", ["b", "w2", "b2", "a"], ["c"], "c", Layout(true, true, false))
            .Node("FusedConv", ["b", "w3", "b3"], ["d"], "d", [.. Layout(true, false, false), GraphBuilder.Ints("strides", 2, 2)])
            .Initializer("w7", Random(27, 64, 64, 1, 1)).Initializer("b7", Random(37, 64))
            .Node("FusedConv", ["b", "w7", "b7"], ["e"], "e", blocked ? [GraphBuilder.Int("x_blocked", 1), strides] : [strides])
            .Node("FusedConv", ["b", "w4", "b4", "a"], ["f"], "f", Layout(true, true, true))
            .Node("FusedConv", ["f", "w5", "b5"], ["g"], "g", blocked ? [pads, GraphBuilder.Int("x_blocked", 1), GraphBuilder.Int("y_blocked", 1)] : [pads])
            .Node("FusedConv", ["g", "w6", "b6"], ["h"], "h", Layout(true, false, false))
            .Output("c").Output("d").Output("e").Output("h")
            .Build();
        foreach (var node in model.Graph.Nodes) node.Domain = TesseraDomain.Name;
        model.OpsetImports[TesseraDomain.Name] = TesseraDomain.Version;
        return model;
    }
}
