using Tessera.Kernels.Convolution;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Convolution;

/// <summary>
/// The im2col-free paths (direct 2-D convolution on constant weights, phase-split depthwise) and FusedConv's residual
/// "sum" input, against the double-precision reference: odd channel counts (partial 8-row slivers), several depth
/// blocks, output widths that end in partial tiles, strides 1-3, dilations, groups, batches, 1 and 2 threads.
/// </summary>
public sealed class DirectConvTests
{
    // (batch, channels, out channels, group, height, width, kernel h, kernel w, stride h, stride w, dilation, pad)
    public static IEnumerable<object[]> Cases =>
    [
        [1, 5, 13, 1, 9, 23, 3, 3, 1, 1, 1, 1],
        [1, 50, 20, 1, 14, 14, 3, 3, 1, 1, 1, 1],
        [3, 45, 9, 1, 7, 7, 5, 5, 1, 1, 1, 2],
        [1, 3, 16, 1, 37, 41, 7, 7, 2, 2, 1, 3],
        [2, 8, 24, 2, 17, 19, 3, 3, 2, 2, 1, 1],
        [1, 6, 8, 1, 20, 29, 3, 2, 3, 2, 2, 0],
        [4, 7, 33, 1, 12, 11, 3, 3, 1, 3, 2, 2],
        [1, 16, 8, 1, 15, 15, 1, 1, 2, 2, 1, 0],
        [1, 512, 17, 1, 3, 3, 3, 3, 1, 1, 1, 1],
        [8, 20, 12, 1, 7, 7, 3, 3, 1, 1, 1, 1], // small planes: a batch packed into B panels

        // Stride phases no tap reads, which the layout leaves unwritten: a strided 1x1 kernel reads one row and one
        // column phase (with an odd left pad, the odd input columns); a dilation equal to the stride reads phase 0 only;
        // a 2x2 kernel with stride 4 reads two of four.
        [2, 16, 24, 1, 40, 70, 1, 1, 2, 2, 1, 0],
        [1, 8, 16, 1, 20, 70, 1, 1, 2, 2, 1, 1],
        [1, 8, 16, 1, 33, 66, 3, 3, 2, 2, 2, 2],
        [1, 4, 8, 1, 21, 35, 2, 2, 4, 4, 1, 1],

        // Output channels per group a multiple of 64 (the channel-blocked kernel with AVX-512 or AVX2): tiles of 6 pixels that
        // span output rows and images, a short last tile, several depth blocks of 128 taps, planes smaller than 16
        // pixels (one transposed vector spans images), strides, dilations, groups and a 2x2 stride-2 kernel; planes of
        // two chunks or more run image by image (238 pixels: chunks of 96, 96 and 46, whose last tile is short).
        [1, 5, 64, 1, 9, 23, 3, 3, 1, 1, 1, 1],
        [2, 12, 64, 1, 14, 17, 3, 3, 1, 1, 1, 1],
        [3, 20, 64, 1, 7, 7, 3, 3, 1, 1, 1, 1],
        [1, 300, 128, 1, 5, 6, 3, 3, 1, 1, 1, 1],
        [5, 4, 64, 1, 3, 2, 3, 3, 1, 1, 2, 2],
        [1, 3, 64, 1, 37, 41, 7, 7, 2, 2, 1, 3],
        [2, 8, 128, 2, 17, 19, 3, 3, 2, 2, 1, 1],
        [1, 6, 64, 1, 20, 29, 3, 2, 3, 2, 2, 0],
        [2, 16, 64, 1, 14, 14, 2, 2, 2, 2, 1, 0],

        // Short last tiles of every width on AVX2, which runs them with kernels of their own width: 49 pixels leave one
        // (all 64 channels in one kernel), 35 five, 98 two (207, 147 and 399 above three, 238 four).
        [1, 20, 64, 1, 7, 7, 3, 3, 1, 1, 1, 1],
        [1, 16, 128, 1, 5, 7, 3, 3, 1, 1, 1, 1],
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void DirectConvolutionMatchesReference(int batch, int c, int m, int group, int h, int w, int kh, int kw, int sh, int sw, int d, int pad)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var random = new Random(h * 31 + w + threads);
            var conv = ConvCase.Create(random, batch, c, m, group, [h, w], [kh, kw], [sh, sw], [d, d], pad, constantW: true);
            conv.AssertMatches(conv.Run(new ParallelRunner(threads)), $"threads {threads}");
        }
    }

    [Fact]
    public void ChannelBlockedCasesReachThatKernelWhereAvx2Is()
    {
        // The cases with 64-channel multiples per group are there for the channel-blocked kernel: each must take it on
        // a machine with AVX2 or AVX-512 (else it would test the other kernel twice), and none may take it without either.
        foreach (var row in Cases.Select(r => r.Cast<int>().ToArray()).Where(r => r[2] / r[3] % 64 == 0))
        {
            int h = row[4], w = row[5], kh = row[6], kw = row[7], sh = row[8], sw = row[9], d = row[10], pad = row[11];
            int[] output = [(h + 2 * pad - d * (kh - 1) - 1) / sh + 1, (w + 2 * pad - d * (kw - 1) - 1) / sw + 1];
            var g = new ConvGeometry([h, w], [kh, kw], [sh, sw], [d, d], [pad, pad], [pad, pad], output);
            Assert.True(ChannelBlockedConv.Applies(g, row[2] / row[3], xBlocked: false) == ChannelBlockedConv.IsSupported, $"case {string.Join(", ", row)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DepthwiseMatchesReferenceForAnyStride(int threads)
    {
        var random = new Random(40 + threads);
        foreach (var (size, kernel, stride, dilation) in new[] { (70, 3, 2, 1), (33, 5, 1, 2), (80, 3, 3, 1), (9, 7, 2, 1), (130, 3, 1, 1) })
        {
            var conv = ConvCase.Create(random, 2, 6, 6, 6, [size - 3, size], [kernel, kernel], [stride, stride], [dilation, dilation], kernel / 2, constantW: true);
            conv.AssertMatches(conv.Run(new ParallelRunner(threads)), $"depthwise size {size} stride {stride}");
        }
    }

    [Theory]
    [InlineData(1, 64, 64, 56, 1)]
    [InlineData(1, 40, 72, 7, 1)]
    [InlineData(1, 16, 24, 30, 2)]
    [InlineData(3, 8, 16, 21, 1)]
    [InlineData(2, 16, 128, 14, 1)]
    [InlineData(5, 24, 64, 7, 2)]
    public void DirectConvolutionBitsDoNotDependOnTheThreadCount(int batch, int c, int m, int size, int stride)
    {
        // Threads split one image by slivers or by column tiles (or a batch by whole images): no split may change a bit.
        var random = new Random(size * 7 + c);
        var conv = ConvCase.Create(random, batch, c, m, 1, [size, size], [3, 3], [stride, stride], [1, 1], 1, constantW: true);
        var expected = conv.Run(ParallelRunner.Sequential).Span<float>().ToArray();
        foreach (int threads in new[] { 2, 3 })
        {
            Assert.Equal(expected, conv.Run(new ParallelRunner(threads)).Span<float>().ToArray());
        }
    }

    [Theory]
    [InlineData(7, 1, 40)]
    [InlineData(7, 2, 40)]
    [InlineData(14, 2, 40)]
    [InlineData(9, 3, 40)]
    [InlineData(7, 2, 64)]
    [InlineData(3, 1, 64)]
    [InlineData(14, 2, 64)]
    [InlineData(16, 1, 64)]
    public void ImagesOfABatchHaveTheBitsTheyHaveAlone(int size, int threads, int m)
    {
        // Batches of small planes pack all their images' columns into panels (7x7, 9x9 at 6 images), single images
        // read their layouts; the channel-blocked kernel (m = 64) runs tiles across images, or (planes of 192 pixels
        // and more, images splitting evenly over the threads) image by image: every image must come out as it does
        // run alone, whichever way it was grouped.
        var random = new Random(size + threads);
        var conv = ConvCase.Create(random, 6, 24, m, 1, [size, size], [3, 3], [1, 1], [1, 1], 1, constantW: true);
        var parallel = new ParallelRunner(threads);
        var whole = conv.Run(parallel).Span<float>().ToArray();
        int per = whole.Length / 6;
        foreach (var (start, count) in new[] { (0, 1), (1, 2), (3, 3), (5, 1) })
        {
            var part = conv.Images(start, count).Run(parallel).Span<float>().ToArray();
            Assert.True(whole.AsSpan(start * per, count * per).SequenceEqual(part), $"images {start}..{start + count - 1} of 6 at {size}x{size}, {threads} threads");
        }
    }

    [Fact]
    public void ShapesMayChangeBetweenCallsOfOneKernel()
    {
        var random = new Random(3);
        var first = ConvCase.Create(random, 1, 6, 10, 1, [12, 13], [3, 3], [1, 1], [1, 1], 1, constantW: true);
        var kernel = first.CreateKernel(ParallelRunner.Sequential);
        first.AssertMatches(first.Run(kernel, ParallelRunner.Sequential), "first shape");
        var second = first.WithInput(random, 2, [7, 30]);
        second.AssertMatches(second.Run(kernel, ParallelRunner.Sequential), "second shape");
        first.AssertMatches(first.Run(kernel, ParallelRunner.Sequential), "first shape again");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FusedConvAddsTheSumBeforeTheActivation(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(60 + threads);
        // direct, GEMM (weights not constant), pointwise and depthwise paths
        foreach (var (c, m, group, kernel, constantW) in new[] { (8, 12, 1, 3, true), (8, 64, 1, 3, true), (8, 12, 1, 3, false), (8, 12, 1, 1, true), (8, 8, 8, 3, true) })
        {
            // Width 19: layout rows of 21 columns, so the direct kernel's 16-column vectors cross output rows where it
            // finishes tiles in registers (width 14's 16-column rows never do).
            foreach (var (activation, width) in new (string?, int)[] { (null, 14), ("Relu", 14), (null, 19), ("Relu", 19) })
            {
                var conv = ConvCase.Create(random, 2, c, m, group, [11, width], [kernel, kernel], [1, 1], [1, 1], kernel / 2, constantW);
                var sum = Tensor.FromArray(KernelHarness.Random(random, conv.OutputLength), conv.OutputShape);
                var attributes = new Dictionary<string, NodeAttribute>(conv.Attributes);
                if (activation is not null)
                {
                    attributes["activation"] = KernelHarness.String("activation", activation);
                }

                var y = Fused.FusedActivationHarness.Run(TesseraDomain.Name, "FusedConv", 1, attributes, [conv.X, conv.W, conv.Bias, sum],
                    [false, constantW, true, false], parallel);
                var (values, scale) = conv.Reference();
                var s = sum.Span<float>();
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] += s[i];
                    values[i] = activation is null ? values[i] : Math.Max(0, values[i]);
                    scale[i] += Math.Abs(s[i]);
                }

                KernelHarness.AssertClose(y.Span<float>(), values, scale, 1e-5, $"FusedConv+sum c{c} m{m} g{group} k{kernel} w{width} const {constantW} {activation}");
            }
        }
    }

    [Fact]
    public void FusedConvRejectsASumOfTheWrongShape()
    {
        var conv = ConvCase.Create(new Random(1), 1, 4, 4, 1, [6, 6], [3, 3], [1, 1], [1, 1], 1, constantW: true);
        var sum = Tensor.FromArray(new float[4 * 5 * 6], 1, 4, 5, 6);
        var e = Assert.ThrowsAny<KernelException>(() => Fused.FusedActivationHarness.Run(TesseraDomain.Name, "FusedConv", 1, conv.Attributes,
            [conv.X, conv.W, conv.Bias, sum], [false, true, true, false], ParallelRunner.Sequential));
        Assert.Contains("sum", e.Message);
    }
}
