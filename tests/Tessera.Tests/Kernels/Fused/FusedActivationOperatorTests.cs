using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Kernels.Linear;

namespace Tessera.Tests.Kernels.Fused;

/// <summary>FusedMatMul, FusedGemm and FusedConv (domain com.tessera) against the unfused operator sequence over random shapes.</summary>
public sealed class FusedActivationOperatorTests
{
    private const string Domain = TesseraDomain.Name;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FusedMatMulEqualsMatMulAddActivation(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(10 + threads);
        int[][][] shapes =
        [
            [[5, 7], [7, 9]], [[2, 3, 17, 20], [20, 33]], [[2, 4, 16, 8], [2, 4, 8, 16]], [[3, 1, 12, 6], [4, 6, 10]],
            [[6], [6, 5]], [[13, 300], [300, 40]], [[1, 12, 128, 64], [1, 12, 64, 128]], [[2, 70], [70, 1]], [[4, 0], [0, 3]],
        ];
        foreach (var pair in shapes)
        {
            int[] aShape = pair[0], bShape = pair[1];
            int n = bShape.Length == 1 ? 1 : bShape[^1];
            foreach (var (name, parameters) in Pick(random, 3))
            {
                bool constantB = random.Next(2) == 0, withBias = bShape.Length > 1 && random.Next(3) != 0;
                var a = Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(aShape)), aShape);
                var b = Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(bShape)), bShape);
                var bias = withBias ? Tensor.FromArray(KernelHarness.Random(random, n), n) : null;
                var attributes = name is null ? [] : FusedActivationHarness.WithActivation([], name, parameters);
                var fused = FusedActivationHarness.Run(Domain, "FusedMatMul", 1, attributes, bias is null ? [a, b] : [a, b, bias],
                    [false, constantB, false], parallel);

                var expected = KernelHarness.Run("MatMul", 13, [], [a, b], [false, false], parallel);
                if (bias is not null)
                {
                    expected = KernelHarness.Run("Add", 14, [], [expected, bias], [false, false], parallel);
                }

                expected = name is null ? expected : FusedActivationHarness.Unfused(name, parameters, expected, parallel);
                FusedActivationHarness.AssertClose(expected, fused,
                    $"FusedMatMul {ShapeMath.Format(aShape)} x {ShapeMath.Format(bShape)} {name} bias {withBias} constant {constantB}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FusedGemmEqualsGemmActivation(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(20 + threads);
        foreach (var (m, n, k) in new[] { (23, 19, 37), (1, 50, 8), (64, 130, 300), (3, 1000, 64), (0, 4, 4), (5, 6, 0) })
        {
            foreach (var (name, parameters) in Pick(random, 3))
            {
                bool transA = random.Next(2) == 0, transB = random.Next(2) == 0, constantB = random.Next(2) == 0;
                int[]? cShape = random.Next(5) switch { 0 => null, 1 => [n], 2 => [1, n], 3 => [m, n], _ => [m, 1] };
                var attributes = KernelHarness.Attributes(KernelHarness.Float("alpha", random.Next(2) == 0 ? 1f : 0.75f),
                    KernelHarness.Float("beta", random.Next(2) == 0 ? 1f : -0.5f), KernelHarness.Int("transA", transA ? 1 : 0),
                    KernelHarness.Int("transB", transB ? 1 : 0));
                var a = Tensor.FromArray(KernelHarness.Random(random, m * k), transA ? [k, m] : [m, k]);
                var b = Tensor.FromArray(KernelHarness.Random(random, k * n), transB ? [n, k] : [k, n]);
                var c = cShape is null ? null : Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(cShape)), cShape);
                Tensor?[] inputs = c is null ? [a, b] : [a, b, c];
                var fusedAttributes = name is null ? attributes : FusedActivationHarness.WithActivation(attributes, name, parameters);
                var fused = FusedActivationHarness.Run(Domain, "FusedGemm", 1, fusedAttributes, inputs, [false, constantB, false], parallel);
                var expected = KernelHarness.Run("Gemm", 13, attributes, inputs, [false, false, false], parallel);
                expected = name is null ? expected : FusedActivationHarness.Unfused(name, parameters, expected, parallel);
                FusedActivationHarness.AssertClose(expected, fused, $"FusedGemm {m}x{n}x{k} {name} C {(cShape is null ? "none" : ShapeMath.Format(cShape))}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FusedConvEqualsConvActivation(int threads)
    {
        var parallel = new ParallelRunner(threads);
        var random = new Random(30 + threads);
        // (batch, channels, out channels, group, size, kernel, stride, pad)
        var cases = new[]
        {
            (1, 16, 24, 1, 9, 1, 1, 0), (2, 8, 16, 1, 11, 3, 1, 1), (1, 8, 8, 1, 12, 3, 2, 1), (1, 12, 12, 12, 10, 3, 1, 1),
            (2, 8, 8, 8, 13, 5, 2, 2), (1, 8, 12, 4, 9, 3, 1, 1), (1, 3, 64, 1, 40, 7, 2, 3), (1, 16, 8, 1, 8, 1, 2, 0),
            (2, 8, 64, 1, 14, 3, 1, 1), // channel-blocked, image by image
        };
        foreach (var (batch, c, m, group, size, kernel, stride, pad) in cases)
        {
            foreach (var (name, parameters) in Pick(random, 3))
            {
                bool withBias = random.Next(3) != 0, constantW = random.Next(2) == 0;
                var attributes = KernelHarness.Attributes(KernelHarness.Int("group", group), KernelHarness.Ints("strides", stride, stride),
                    KernelHarness.Ints("pads", pad, pad, pad, pad), KernelHarness.Ints("kernel_shape", kernel, kernel));
                int[] xShape = [batch, c, size, size + 1], wShape = [m, c / group, kernel, kernel];
                var x = Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(xShape)), xShape);
                var w = Tensor.FromArray(KernelHarness.Random(random, ShapeMath.ElementCount(wShape)), wShape);
                var bias = withBias ? Tensor.FromArray(KernelHarness.Random(random, m), m) : null;
                Tensor?[] inputs = bias is null ? [x, w] : [x, w, bias];
                var fusedAttributes = name is null ? attributes : FusedActivationHarness.WithActivation(attributes, name, parameters);
                var fused = FusedActivationHarness.Run(Domain, "FusedConv", 1, fusedAttributes, inputs, [false, constantW, true], parallel);
                var expected = KernelHarness.Run("Conv", 11, attributes, inputs, [false, false, false], parallel);
                expected = name is null ? expected : FusedActivationHarness.Unfused(name, parameters, expected, parallel);
                FusedActivationHarness.AssertClose(expected, fused, $"FusedConv c{c} m{m} g{group} k{kernel} s{stride} {name} bias {withBias}");
            }
        }
    }

    [Fact]
    public void FusedMatMulRejectsABiasOfTheWrongLength()
    {
        var a = Tensor.FromArray(new float[6], 2, 3);
        var b = Tensor.FromArray(new float[12], 3, 4);
        var bias = Tensor.FromArray(new float[3], 3);
        Assert.Throws<KernelException>(() => FusedActivationHarness.Run(Domain, "FusedMatMul", 1, [], [a, b, bias], [false, false, false],
            ParallelRunner.Sequential));
    }

    /// <summary>A few activations (null for none) drawn from every kind, so each shape meets different ones.</summary>
    private static IEnumerable<(string? Name, float[]? Params)> Pick(Random random, int count)
    {
        yield return (null, null);
        for (int i = 0; i < count; i++)
        {
            var (name, parameters) = FusedActivationHarness.Activations[random.Next(FusedActivationHarness.Activations.Length)];
            yield return (name, parameters);
        }
    }
}
