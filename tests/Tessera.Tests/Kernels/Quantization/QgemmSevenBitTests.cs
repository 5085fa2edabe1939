using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>
/// 7-bit B (weights within [-64, 64] as packed, `quantize --reduce-range`) on every kernel this machine runs, the
/// vpmaddubsw byte kernels included, against exact 64-bit sums; and where the byte kernels are chosen.
/// </summary>
public sealed unsafe class QgemmSevenBitTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 17, 3), (2, 16, 4), (5, 33, 7), (6, 16, 8), (7, 15, 9), (13, 31, 17), (97, 40, 130),
        (100, 70, 256), (193, 3, 5), (12, 200, 1023),
    ];

    /// <summary>Every kernel this machine runs, the byte kernels for 7-bit B included.</summary>
    public static TheoryData<string, int> Configurations()
    {
        var data = new TheoryData<string, int>();
        foreach (var isa in Enum.GetValues<QgemmIsa>().Where(QgemmConfig.IsSupported))
        {
            data.Add(isa.ToString(), 1);
            data.Add(isa.ToString(), 2);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Int32SumsAreExact(string isaName, int threads)
    {
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(17 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool signedA in new[] { false, true })
            {
                foreach (bool signedB in new[] { false, true })
                {
                    foreach (bool extremes in new[] { false, true })
                    {
                        var operands = QgemmOperands.Create(random, m, n, k, signedA, signedB, extremes, sevenBitB: true);
                        var expected = operands.Reference();
                        var actual = new int[m * n];
                        fixed (int* y = actual)
                        {
                            operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Int32, Data = (byte*)y, RowStride = n, ColStride = 1 }, parallel);
                        }

                        Assert.True(expected.SequenceEqual(actual.Select(v => (long)v)), $"{isaName} {m}x{n}x{k} signed A {signedA} B {signedB} extremes {extremes}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void FloatOutputsOfSymmetricWeightsFollowTheExactSum(string isaName, int threads)
    {
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(23 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            var operands = QgemmOperands.Create(random, m, n, k, random.Next(2) == 0, signedB: true, extremes: false, symmetricB: true, sevenBitB: true);
            var sums = operands.Reference();
            var scale = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1e-3)).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            var actual = new float[m * n];
            fixed (float* f = actual)
            {
                operands.Run(config, new QgemmOutput { Kind = QgemmOutputKind.Float, Data = (byte*)f, RowStride = n, ColStride = 1, Scale = scale, FloatBias = bias }, parallel);
            }

            for (int i = 0; i < m * n; i++)
            {
                Assert.Equal((sums[i] * scale[i % n]) + bias[i % n], actual[i]);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ByteKernelsRefuseEightBitB(bool signed)
    {
        // One value past the range (65, or uint8 193): packing for a byte kernel must fail, not saturate later.
        var b = Enumerable.Repeat((byte)(signed ? 10 : 138), 64).ToArray();
        b[37] = (byte)(signed ? 65 : 193);
        foreach (var isa in new[] { QgemmIsa.Avx2Bytes, QgemmIsa.Avx512Bytes }.Where(QgemmConfig.IsSupported))
        {
            fixed (byte* pb = b)
            {
                var config = QgemmConfig.For(isa);
                nint at = (nint)pb;
                var error = Assert.Throws<ArgumentException>(() => QgemmPackedB.Pack(config, (byte*)at, 8, 8, 8, 1, signed));
                Assert.Contains("7-bit", error.Message);
                b[37] = (byte)(signed ? 64 : 192);
                Assert.NotNull(QgemmPackedB.Pack(config, pb, 8, 8, 8, 1, signed));
                b[37] = (byte)(signed ? 65 : 193);
            }
        }
    }

    [Fact]
    public void SevenBitWeightsTakeTheByteKernelWhereTheBestIsWidened()
    {
        var sevenBit = new byte[] { 0xC0, 0x40, 0, 5 }; // -64, 64, 0, 5
        var eightBit = new byte[] { 0xC0, 0x41, 0, 5 }; // 65 is out
        fixed (byte* s = sevenBit)
        fixed (byte* e = eightBit)
        {
            var expected = QgemmConfig.Current.Isa switch
            {
                QgemmIsa.Avx2 when QgemmConfig.BytesAllowed => QgemmIsa.Avx2Bytes,
                QgemmIsa.Avx512Bw when QgemmConfig.BytesAllowed => QgemmIsa.Avx512Bytes,
                var isa => isa,
            };
            Assert.Equal(expected, QgemmConfig.ForWeights(s, 4, signed: true).Isa);
            Assert.Equal(QgemmConfig.Current.Isa, QgemmConfig.ForWeights(e, 4, signed: true).Isa);
            Assert.False(SevenBitWeights.Fit(e, 4, signed: true));
            Assert.True(SevenBitWeights.Fit(s, 4, signed: true));
            Assert.False(SevenBitWeights.Fit(s, 4, signed: false)); // as uint8, 0xC0 - 128 = 64 but 0 - 128 is out
        }
    }
}
