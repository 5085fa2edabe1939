using Tessera.Kernels.Core;
using Tessera.Kernels.Quantization;

namespace Tessera.Tests.Kernels.Quantization;

/// <summary>
/// The float epilogues a product sets once for all its row blocks (<see cref="QgemmFloatPanels"/>) are kept per thread
/// and set again by the next product: nothing of one product's (its residual, its output) may reach the next's.
/// </summary>
public sealed unsafe class QgemmFloatPanelsTests
{
    [Theory]
    [MemberData(nameof(QgemmTests.Configurations), MemberType = typeof(QgemmTests))]
    public void AProductWithAResidualLeavesNothingToTheSplitProductAfterIt(string isaName, int threads)
    {
        // 97 rows: two row blocks, so the panels are set once per product; 32 columns: two whole panels, one per part.
        const int m = 97, n = 32, k = 24;
        var config = QgemmConfig.For(Enum.Parse<QgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(11 + threads);
        var a = Enumerable.Range(0, m * k).Select(_ => (byte)random.Next(256)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (byte)random.Next(256)).ToArray();
        var scale = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1e-3)).ToArray();
        var residual = Enumerable.Range(0, m * n).Select(_ => (float)random.NextDouble() + 1f).ToArray();
        var zeros = new int[n];
        Array.Fill(zeros, QgemmPackedB.Shift(signed: true));
        var withResidual = new float[m * n];
        var part0 = new float[m * 16];
        var part1 = new float[m * 16];
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        fixed (float* sum = residual)
        fixed (float* y = withResidual)
        fixed (float* p0 = part0)
        fixed (float* p1 = part1)
        {
            var packed = QgemmPackedB.Pack(config, pb, k, n, n, 1, signed: true);
            var rows = new QgemmMatrixRows(pa, k, k, signed: false);
            var output = new QgemmOutput
            {
                Kind = QgemmOutputKind.Float, RowStride = n, ColStride = 1, Scale = scale, AZero = 3, BZero = zeros,
                ColumnSums = packed.ColumnSums, K = k,
            };
            Qgemm.Multiply(m, packed, rows, output with { Data = (byte*)y, Sum = sum }, parallel);
            Qgemm.Multiply(m, packed, rows, output with { PartData = [(nint)p0, (nint)p1], PartColumns = 16 }, parallel);
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                long exact = 0;
                for (int p = 0; p < k; p++) exact += (long)(a[(i * k) + p] - 3) * (sbyte)b[(p * n) + j];
                float product = (int)exact * scale[j];
                Assert.Equal(product + residual[(i * n) + j], withResidual[(i * n) + j]);
                Assert.Equal(product, (j < 16 ? part0 : part1)[(i * 16) + (j % 16)]);
            }
        }
    }
}
