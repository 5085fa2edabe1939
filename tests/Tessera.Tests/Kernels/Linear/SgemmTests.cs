using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;

namespace Tessera.Tests.Kernels.Linear;

/// <summary>The SGEMM (every micro-kernel this machine runs, packed and unpacked operands) against a double-precision triple loop.</summary>
public sealed unsafe class SgemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 37, 5), (2, 70, 33), (3, 100, 7), (4, 9, 300), (5, 3, 64), (7, 1, 19), (9, 2, 40), (6, 16, 8),
        (13, 31, 17), (14, 32, 256), (15, 33, 257), (29, 65, 300), (97, 61, 513), (200, 130, 70), (64, 64, 64),
        (350, 40, 30), (16, 4100, 20), (37, 97, 1), (101, 5, 131), (8, 48, 600),
    ];

    public static TheoryData<string, int> Configurations()
    {
        var data = new TheoryData<string, int>();
        foreach (var isa in Enum.GetValues<SgemmIsa>())
        {
            if (SgemmConfig.IsSupported(isa))
            {
                data.Add(isa.ToString(), 1);
                data.Add(isa.ToString(), 2);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void MatchesReference(string isaName, int threads)
    {
        var isa = Enum.Parse<SgemmIsa>(isaName);
        var config = SgemmConfig.For(isa);
        var parallel = new ParallelRunner(threads);
        var random = new Random(1234 + (int)isa * 10 + threads);
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    float alpha = random.Next(3) == 0 ? 1f : (float)(random.NextDouble() * 2 - 0.5);
                    float beta = random.Next(3) switch { 0 => 0f, 1 => 1f, _ => -0.75f };
                    Check(config, parallel, random, m, n, k, transA, transB, alpha, beta, padding: random.Next(3), Mode.Plain);
                }
            }

            Check(config, parallel, random, m, n, k, random.Next(2) == 0, random.Next(2) == 0, 1.5f, 0f, 1, Mode.PackedB);
            Check(config, parallel, random, m, n, k, random.Next(2) == 0, random.Next(2) == 0, 0.5f, 1f, 2, Mode.PackedB);
            Check(config, parallel, random, m, n, k, random.Next(2) == 0, random.Next(2) == 0, -2f, 0f, 0, Mode.PackedA);
            Check(config, parallel, random, m, n, k, random.Next(2) == 0, random.Next(2) == 0, 1f, 0.25f, 3, Mode.PackedA);
        }
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void SmallBlocksMatchReference(string isaName, int threads)
    {
        // Tiny cache blocks make every shape cross Mc, Kc and Nc boundaries, packed operands included.
        var baseConfig = SgemmConfig.For(Enum.Parse<SgemmIsa>(isaName));
        var config = baseConfig.WithBlocking(7, 2 * baseConfig.Mr, 2 * baseConfig.Nr);
        var parallel = new ParallelRunner(threads);
        var random = new Random(99 + threads);
        foreach (var (m, n, k) in new[] { (13, 31, 17), (97, 61, 53), (96, 61, 53), (200, 50, 41), (5, 200, 30), (60, 70, 7), (29, 65, 30) })
        {
            Check(config, parallel, random, m, n, k, false, false, 1f, 0f, 0, Mode.Plain);
            Check(config, parallel, random, m, n, k, true, true, 0.5f, 1f, 1, Mode.Plain);
            Check(config, parallel, random, m, n, k, false, true, 1f, -1f, 2, Mode.PackedB);
            Check(config, parallel, random, m, n, k, true, false, 2f, 0f, 0, Mode.PackedA);
        }
    }

    /// <summary>
    /// With alpha 1 and a row-major A, the AVX2 and AVX-512 kernels read A in place (SgemmStep.StreamsA) instead of packing it: the
    /// result must have the bits of the same product from a pre-packed A (the packing kernel), over edge rows and
    /// columns, depth blocks (Kc 7 and the machine's) and both ways of splitting across threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(Configurations))]
    public void RowMajorAGivesPackedBits(string isaName, int threads)
    {
        var machine = SgemmConfig.For(Enum.Parse<SgemmIsa>(isaName));
        var parallel = new ParallelRunner(threads);
        var random = new Random(7 + threads);
        foreach (var config in new[] { machine, machine.WithBlocking(7, 4 * machine.Mr, 2 * machine.Nr) })
        {
            foreach (var (m, n, k) in new[] { (13, 31, 17), (128, 32, 128), (7, 16, 300), (97, 61, 513), (6, 48, 9), (40, 200, 64) })
            {
                foreach (float beta in new[] { 0f, 1f })
                {
                    int lda = k + random.Next(3), ldb = n + random.Next(3), ldc = n + random.Next(3);
                    var a = KernelHarness.Random(random, m * lda);
                    var b = KernelHarness.Random(random, k * ldb);
                    var c0 = KernelHarness.Random(random, m * ldc);
                    var packedRun = (float[])c0.Clone();
                    var plainRun = (float[])c0.Clone();
                    var packedBRun = (float[])c0.Clone();
                    fixed (float* pa = a, pb = b, pPacked = packedRun, pPlain = plainRun, pPackedB = packedBRun)
                    {
                        var packedA = SgemmPackedA.Pack(pa, lda, false, m, k, 1f, config);
                        Sgemm.Multiply(packedA, false, n, pb, ldb, beta, pPacked, ldc, parallel);
                        Sgemm.Multiply(false, false, m, n, k, 1f, pa, lda, pb, ldb, beta, pPlain, ldc, parallel, config);
                        Sgemm.Multiply(false, m, 1f, pa, lda, SgemmPackedB.Pack(pb, ldb, false, k, n, config), beta, pPackedB, ldc, parallel);
                    }

                    string what = $"{config.Isa} kc={config.Kc} m={m} n={n} k={k} beta={beta} threads={threads}";
                    Assert.True(plainRun.AsSpan().SequenceEqual(packedRun), $"plain differs from packed A: {what}");
                    Assert.True(packedBRun.AsSpan().SequenceEqual(packedRun), $"packed B differs from packed A: {what}");
                }
            }
        }
    }

    private enum Mode
    {
        Plain,
        PackedA,
        PackedB,
    }

    private static void Check(SgemmConfig config, ParallelRunner parallel, Random random, int m, int n, int k, bool transA,
        bool transB, float alpha, float beta, int padding, Mode mode)
    {
        int lda = (transA ? m : k) + padding;
        int ldb = (transB ? k : n) + padding;
        int ldc = n + padding;
        var a = KernelHarness.Random(random, (transA ? k : m) * lda);
        var b = KernelHarness.Random(random, (transB ? n : k) * ldb);
        var c = KernelHarness.Random(random, m * ldc);
        if (beta == 0f)
        {
            // Whatever C held must not leak into the result when beta is zero.
            Array.Fill(c, float.NaN);
        }

        var expected = new double[m * n];
        var scale = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                    abs += Math.Abs(x * y);
                }

                double prior = beta == 0f ? 0 : c[i * ldc + j];
                expected[i * n + j] = alpha * sum + beta * prior;
                scale[i * n + j] = Math.Abs(alpha) * abs + Math.Abs(beta * prior);
            }
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            switch (mode)
            {
                case Mode.Plain:
                    Sgemm.Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel, config);
                    break;
                case Mode.PackedB:
                    var packedB = SgemmPackedB.Pack(pb, ldb, transB, k, n, config);
                    Sgemm.Multiply(transA, m, alpha, pa, lda, packedB, beta, pc, ldc, parallel);
                    break;
                case Mode.PackedA:
                    var packedA = SgemmPackedA.Pack(pa, lda, transA, m, k, alpha, config);
                    Sgemm.Multiply(packedA, transB, n, pb, ldb, beta, pc, ldc, parallel);
                    break;
            }
        }

        var actual = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            Array.Copy(c, i * ldc, actual, i * n, n);
        }

        KernelHarness.AssertClose(actual, expected, scale, 1e-5,
            $"{config.Isa} {mode} m={m} n={n} k={k} transA={transA} transB={transB} alpha={alpha} beta={beta} ld+{padding}");
    }
}
