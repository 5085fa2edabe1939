using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>
/// The integer GEMM with every micro-kernel this machine runs (VNNI, AVX2, Vector128) against a scalar reference in
/// 64-bit integers: the int32 sums must be exact, and requantized and dequantized outputs bit-identical to the same
/// float formula applied to the exact sum.
/// </summary>
public sealed unsafe class QgemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 17, 3), (2, 16, 4), (5, 33, 7), (6, 16, 8), (7, 15, 9), (13, 31, 17), (97, 40, 130),
        (100, 70, 256), (193, 3, 5), (12, 200, 1023),
    ];

    /// <summary>Every kernel this machine runs on any B: the machine's tiers, without the 7-bit byte kernels (<see cref="QgemmSevenBitTests"/>).</summary>
    public static TheoryData<string, int> Configurations()
    {
        var data = new TheoryData<string, int>();
        foreach (var isa in Enum.GetValues<QgemmIsa>())
        {
            if (QgemmConfig.IsSupported(isa) && !QgemmConfig.For(isa).NeedsSevenBitB)
            {
                data.Add(isa.ToString(), 1);
                data.Add(isa.ToString(), 2);
            }
        }

        return data;
    }

    [Fact]
    public void PortableKernelIsAlwaysAvailable() => Assert.Contains(QgemmIsa.Portable.ToString(), Configurations().Select(row => (string)row[0]));

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Int32SumsAreExact(string isaName, int threads)
    {
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(7 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool signedA in new[] { false, true })
            {
                foreach (bool signedB in new[] { false, true })
                {
                    var operands = QgemmOperands.Create(random, m, n, k, signedA, signedB, extremes: random.Next(3) == 0);
                    var expected = operands.Reference();
                    var actual = new int[m * n];
                    fixed (int* y = actual)
                    {
                        operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Int32, Data = (byte*)y, RowStride = n, ColStride = 1 }, parallel);
                    }

                    Assert.True(expected.SequenceEqual(actual.Select(v => (long)v)),
                        $"{isaName} {m}x{n}x{k} signed A {signedA} B {signedB}: first difference at {FirstDifference(expected, actual)}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void ATransposedBPacksAsItsRowMajorCopy(string isaName, int threads)
    {
        // B read column by column (rowStride 1: an attention's Kᵀ out of K) against the same B row-major.
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var random = new Random(11 + threads);
        foreach (var (_, n, k) in Shapes)
        {
            foreach (bool signed in new[] { false, true })
            {
                var columns = Enumerable.Range(0, n * k).Select(_ => (byte)random.Next(256)).ToArray();
                var rows = new byte[k * n];
                for (int c = 0; c < n; c++)
                {
                    for (int r = 0; r < k; r++) rows[(r * n) + c] = columns[(c * k) + r];
                }

                fixed (byte* pc = columns)
                fixed (byte* pr = rows)
                {
                    var expected = QgemmPackedB.Pack(config, pr, k, n, n, 1, signed);
                    var actual = QgemmPackedB.Pack(config, pc, k, n, 1, k, signed);
                    var size = expected.Panels * expected.PanelBytes;
                    Assert.Equal(new ReadOnlySpan<byte>(expected.Panel(0), size).ToArray(), new ReadOnlySpan<byte>(actual.Panel(0), size).ToArray());
                    Assert.Equal(expected.ColumnSums, actual.ColumnSums);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void RequantizedAndFloatOutputsFollowTheExactSum(string isaName, int threads)
    {
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(99 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            var operands = QgemmOperands.Create(random, m, n, k, random.Next(2) == 0, random.Next(2) == 0, extremes: false);
            var sums = operands.Reference();
            var scale = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1e-3)).ToArray();
            var intBias = Enumerable.Range(0, n).Select(_ => random.Next(-5000, 5000)).ToArray();
            var floatBias = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var quantized = new byte[m * n];
            var floats = new float[m * n];
            fixed (byte* q = quantized)
            fixed (float* f = floats)
            {
                // Column-major output (a convolution's channels-first layout) for the requantized form.
                operands.Run(config, new QgemmOutput
                {
                    Kind = QgemmOutputKind.Requantize, Data = q, RowStride = 1, ColStride = m, Scale = scale, IntBias = intBias,
                    YZero = -3, YMin = -128, YMax = 127,
                }, parallel);
                operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)f, RowStride = n, ColStride = 1, Scale = scale, FloatBias = floatBias }, parallel);
            }

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int sum = (int)sums[(i * n) + j];
                    int q = (int)Math.Clamp(MathF.Round((sum + intBias[j]) * scale[j]) - 3, -128, 127);
                    Assert.Equal((sbyte)q, (sbyte)quantized[(j * m) + i]);
                    Assert.Equal((sum * scale[j]) + floatBias[j], floats[(i * n) + j]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void FloatOutputsOfSymmetricWeightsFollowTheExactSum(string isaName, int threads)
    {
        // int8 weights with zero point 0 (what quantizers write per channel) take the epilogue's shorter path.
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(7 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            var operands = QgemmOperands.Create(random, m, n, k, random.Next(2) == 0, signedB: true, extremes: false, symmetricB: true);
            var sums = operands.Reference();
            var scale = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1e-3)).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var withBias = new float[m * n];
            var withoutBias = new float[m * n];
            fixed (float* f = withBias)
            fixed (float* g = withoutBias)
            {
                operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)f, RowStride = n, ColStride = 1, Scale = scale, FloatBias = bias }, parallel);
                operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)g, RowStride = n, ColStride = 1, Scale = scale }, parallel);
            }

            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int sum = (int)sums[(i * n) + j];
                    Assert.Equal((sum * scale[j]) + bias[j], withBias[(i * n) + j]);
                    Assert.Equal(sum * scale[j], withoutBias[(i * n) + j]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void FusedActivationIsThatOfEachWholeRow(string isaName, int threads)
    {
        // With 2 threads the short shapes share B's panels among jobs (the activation then runs after the product);
        // otherwise each block applies it to its finished rows. Both must give each row's own activation, bit for bit.
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(5 + threads);
        foreach (var name in new[] { "Gelu", "GeluTanh", "Relu" })
        {
            var activation = FusedActivation.Parse(name, null);
            foreach (var (m, n, k) in Shapes)
            {
                var operands = QgemmOperands.Create(random, m, n, k, random.Next(2) == 0, signedB: true, extremes: false);
                var scale = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1e-3)).ToArray();
                var expected = new float[m * n];
                var actual = new float[m * n];
                fixed (float* e = expected)
                fixed (float* a = actual)
                {
                    operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)e, RowStride = n, ColStride = 1, Scale = scale }, parallel);
                    operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)a, RowStride = n, ColStride = 1, Scale = scale, Activation = activation }, parallel);
                }

                for (int i = 0; i < m; i++) activation.Apply(expected.AsSpan(i * n, n));
                Assert.True(expected.SequenceEqual(actual), $"{isaName} {name} {m}x{n}x{k}");
            }
        }
    }

    private static string FirstDifference(long[] expected, int[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i]) return $"{i}: {actual[i]} instead of {expected[i]}";
        }

        return "none";
    }
}
