using Tessera.Cli.Bench.Gemm;
using Tessera.Cli.Common;
using Tessera.Kernels.Core;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cli;

/// <summary>
/// `tessera bench-gemm`: its options and their errors, the check that runs before any timing (it must catch a wrong
/// element wherever the kernel writes it), and the kernel and roof it reports on each SIMD tier.
/// </summary>
public sealed class BenchGemmCommandTests
{
    [Theory]
    [InlineData("1024x768x3072", 1024, 768, 3072)]
    [InlineData("1x1x1", 1, 1, 1)]
    [InlineData("65536x16x128", 65536, 16, 128)]
    public void ShapesParse(string text, int m, int n, int k) => Assert.Equal(new GemmShape(m, n, k), GemmShape.Parse(text));

    [Theory]
    [InlineData("12x3", "must be MxNxK")]
    [InlineData("1x2x3x4", "must be MxNxK")]
    [InlineData("0x5x5", "'0' is not a dimension from 1 to 65536")]
    [InlineData("ax5x5", "'a' is not a dimension")]
    [InlineData("-1x5x5", "'-1' is not a dimension")]
    [InlineData("65537x1x1", "'65537' is not a dimension")]
    [InlineData("8x", "must be MxNxK")]
    [InlineData("65536x65536x1", "an operand of 4294967296 elements is more than 268435456")]
    public void BadShapesSayWhatIsWrong(string text, string message) =>
        Assert.Contains(message, Assert.Throws<CliException>(() => GemmShape.Parse(text)).Message);

    [Fact]
    public void SettingsAreChecked()
    {
        var ok = GemmBenchSettings.Create(["8x8x8", "16x16x16"], "INT8", 2, 0.5, 3, transposeB: true, prepackedB: false);
        Assert.Equal(GemmDtype.Int8, ok.Dtype);
        Assert.Equal([new GemmShape(8, 8, 8), new GemmShape(16, 16, 16)], ok.Shapes);
        Assert.Contains("at least one --shape", Error([], "float", 1, 1, 1));
        Assert.Contains("--dtype 'bf16' must be float or int8", Error(["8x8x8"], "bf16", 1, 1, 1));
        Assert.Contains("--threads must be from 1 to 256, got 0", Error(["8x8x8"], "float", 0, 1, 1));
        Assert.Contains("--seconds must be in (0, 60]", Error(["8x8x8"], "float", 1, 0, 1));
        Assert.Contains("--seconds must be in (0, 60]", Error(["8x8x8"], "float", 1, double.NaN, 1));
        Assert.Contains("--rounds must be from 1 to 1000, got 0", Error(["8x8x8"], "float", 1, 1, 0));
        Assert.Contains("--micro-kernel runs the register tile on one thread",
            Assert.Throws<CliException>(() => GemmBenchSettings.Create(["8x8x8"], "int8", 2, 1, 1, false, false, microKernel: true)).Message);
        Assert.True(GemmBenchSettings.Create(["8x8x8"], "int8", 1, 1, 1, false, false, microKernel: true).PrepackedB);
        Assert.Contains("--seven-bit is for --dtype int8",
            Assert.Throws<CliException>(() => GemmBenchSettings.Create(["8x8x8"], "float", 1, 1, 1, false, false, sevenBit: true)).Message);
    }

    // 7-bit B (the byte kernels where the machine has no VNNI): the product and the tile alone are checked exactly too.
    [Theory]
    [InlineData(37, 53, 29, false, false)]
    [InlineData(97, 100, 400, true, false)]
    [InlineData(6, 16, 128, false, true)]
    [InlineData(20, 70, 129, true, true)]
    public void SevenBitProductsPassTheCheck(int m, int n, int k, bool transB, bool microKernel)
    {
        var settings = GemmBenchSettings.Create([$"{m}x{n}x{k}"], "int8", microKernel ? 1 : 2, 1, 1, transB, prepackedB: true, microKernel, sevenBit: true);
        using var gemm = GemmBenchRunner.Create(settings, settings.Shapes[0], new ParallelRunner(settings.Threads));
        gemm.Run();
        Assert.Null(gemm.Check());
        gemm.Spoil(m - 1, n - 1);
        Assert.NotNull(gemm.Check());
    }

    private static string Error(string[] shapes, string dtype, int threads, double seconds, int rounds) =>
        Assert.Throws<CliException>(() => GemmBenchSettings.Create(shapes, dtype, threads, seconds, rounds, false, false)).Message;

    [Fact]
    public void LargeProductsCheckRowsFromFirstToLast()
    {
        Assert.Equal(Enumerable.Range(0, 100), GemmCheck.Rows(new GemmShape(100, 64, 64)));
        int[] rows = GemmCheck.Rows(new GemmShape(4096, 4096, 4096));
        Assert.Equal(0, rows[0]);
        Assert.Equal(4095, rows[^1]);
        Assert.Equal(rows.Length, rows.Distinct().Count());
        Assert.InRange((long)rows.Length * 4096 * 4096, 1, 2 * GemmCheck.Budget);
    }

    // Edges on every side of the register tiles (8x48, 6x16, 4x8; int8 6x16 and 2x16) and of the thin-row paths.
    public static TheoryData<string, int, int, int, bool, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, int, int, bool, bool, bool>();
        foreach (string dtype in new[] { "float", "int8" })
        {
            foreach (var (m, n, k) in new[] { (37, 53, 29), (3, 70, 33), (50, 2, 17), (97, 100, 400) })
            {
                foreach (bool transB in new[] { false, true })
                {
                    foreach (bool prepacked in new[] { false, true })
                    {
                        data.Add(dtype, m, n, k, transB, prepacked, false);
                    }
                }
            }

            // The register tile alone: one whole tile, one tile padded in both directions, several with a K not of the K group.
            foreach (var (m, n, k) in new[] { (6, 16, 128), (8, 48, 64), (5, 7, 3), (20, 70, 129) })
            {
                data.Add(dtype, m, n, k, false, true, true);
                data.Add(dtype, m, n, k, true, true, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheCheckPassesTheKernelAndCatchesAnyWrongElement(string dtype, int m, int n, int k, bool transB, bool prepacked, bool microKernel)
    {
        var settings = GemmBenchSettings.Create([$"{m}x{n}x{k}"], dtype, microKernel ? 1 : 2, 1, 1, transB, prepacked, microKernel);
        using var gemm = GemmBenchRunner.Create(settings, settings.Shapes[0], new ParallelRunner(settings.Threads));
        gemm.Run();
        Assert.Null(gemm.Check());
        gemm.Run();
        Assert.Null(gemm.Check());
        foreach (var (row, column) in new[] { (0, 0), (m - 1, n - 1), (m / 2, n / 3) })
        {
            gemm.Run();
            gemm.Spoil(row, column);
            string? wrong = gemm.Check();
            Assert.NotNull(wrong);
            Assert.Contains($"{dtype}{(microKernel ? " micro-kernel" : "")} {m}x{n}x{k}: C[{row}, {column}] is ", wrong);
            Assert.Contains("the kernel is wrong", wrong);
        }
    }

    [Fact]
    public void MistakesEndTheProcessWithOneLine()
    {
        foreach (var (args, message) in new (string[], string)[]
        {
            (["bench-gemm", "--shape", "8x8"], "--shape '8x8' must be MxNxK"),
            (["bench-gemm"], "give at least one --shape MxNxK"),
            (["bench-gemm", "--shape", "8x8x8", "--dtype", "fp16"], "--dtype 'fp16' must be float or int8"),
            (["bench-gemm", "--shape", "8x8x8", "--threads", "0"], "--threads must be from 1 to 256"),
        })
        {
            var r = CliProcess.Run(args);
            Assert.Equal(2, r.ExitCode);
            string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
            Assert.Equal("tessera: " + message, lines[0][..("tessera: " + message).Length]);
        }
    }

    public static TheoryData<string> Tiers() => SimdTier.ThisAndLower();

    [Theory]
    [MemberData(nameof(Tiers))]
    public void ReportsTheKernelAndRoofOfTheTier(string tier)
    {
        var (sgemm, fma, qgemm, widened) = tier switch
        {
            SimdTier.Avx512 => ("sgemm avx512 8x48", "roof: 512-bit FMA, 1 thread: ", "qgemm avx512bw 6x16", "roof: 512-bit vpmaddwd + vpaddd, 1 thread: "),
            SimdTier.Avx2 => ("sgemm avx2 6x16", "roof: 256-bit FMA, 1 thread: ", "qgemm avx2 6x16", "roof: 256-bit vpmaddwd + vpaddd, 1 thread: "),
            _ => ("sgemm portable 4x8", "roof: none measured", "qgemm portable 2x16", "roof: none measured"),
        };
        if (tier != SimdTier.Vector128Tier && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            (qgemm, widened) = ("qgemm avxvnni 6x16", "roof: 256-bit vpdpbusd, 1 thread: ");
        }

        string[] common = ["bench-gemm", "--shape", "37x53x29", "--shape", "2x40x16", "--seconds", "0.02", "--rounds", "2"];
        var f = CliProcess.Run(SimdTier.Environment(tier), [.. common, "--threads", "2"]);
        Assert.True(f.ExitCode == 0, f.Stderr);
        Assert.Contains(fma, f.Stdout);
        Assert.Contains("bench-gemm: float, 2 threads, B K x N,", f.Stdout);
        Assert.Contains($"37x53x29 ", f.Stdout);
        Assert.Contains($"{sgemm}, A ", f.Stdout);
        Assert.Contains("sgemm thin rows (M or N <= 4, no tile), B not packed (2 of 2 rows checked)", f.Stdout);

        var q = CliProcess.Run(SimdTier.Environment(tier), [.. common, "--dtype", "int8", "--prepacked-b", "--transpose-b"]);
        Assert.True(q.ExitCode == 0, q.Stderr);
        Assert.Contains(widened, q.Stdout);
        Assert.Contains("bench-gemm: int8 (u8 x s8, float output), 1 thread, B transposed (N x K),", q.Stdout);
        Assert.Contains($"{qgemm}, float output, B packed beforehand (37 of 37 rows checked)", q.Stdout);

        foreach (string dtype in new[] { "float", "int8" })
        {
            var tile = CliProcess.Run(SimdTier.Environment(tier), "bench-gemm", "--micro-kernel", "--dtype", dtype, "--shape", "6x16x128", "--seconds", "0.02", "--rounds", "1");
            Assert.True(tile.ExitCode == 0, tile.Stderr);
            Assert.Contains(dtype == "float" ? fma : widened, tile.Stdout);
            Assert.Contains($"{(dtype == "float" ? sgemm : qgemm)} micro-kernel alone, ", tile.Stdout);
        }
    }

    [Fact]
    public void TesseraQgemmPicksALowerIntegerKernel()
    {
        if (SimdTier.Current != SimdTier.Avx512) return;
        var r = CliProcess.Run(new Dictionary<string, string> { ["TESSERA_QGEMM"] = "avx2" },
            "bench-gemm", "--dtype", "int8", "--shape", "16x16x16", "--seconds", "0.02", "--rounds", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("roof: 256-bit vpmaddwd + vpaddd, 1 thread: ", r.Stdout);
        Assert.Contains("qgemm avx2 6x16, float output, B packed per call (16 of 16 rows checked)", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void SevenBitWeightsAreReadAgainstTheByteStepsRoof(string tier)
    {
        var (qgemm, roof) = tier switch
        {
            SimdTier.Avx512 => ("qgemm avx512bytes 6x16", "roof: 512-bit vpmaddubsw + vpmaddwd + vpaddd, 1 thread: "),
            SimdTier.Avx2 => ("qgemm avx2bytes 6x16", "roof: 256-bit vpmaddubsw + vpmaddwd + vpaddd, 1 thread: "),
            _ => ("qgemm portable 2x16", "roof: none measured"),
        };
        if (tier != SimdTier.Vector128Tier && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            (qgemm, roof) = ("qgemm avxvnni 6x16", "roof: 256-bit vpdpbusd, 1 thread: ");
        }

        string[] args = ["bench-gemm", "--dtype", "int8", "--seven-bit", "--shape", "13x32x64", "--seconds", "0.02", "--rounds", "1"];
        var r = CliProcess.Run(SimdTier.Environment(tier), args);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(roof, r.Stdout);
        Assert.Contains($"{qgemm}, float output", r.Stdout);

        // TESSERA_QGEMM_BYTES=0 keeps the widened kernel, and with it the widened step's roof.
        if (tier == SimdTier.Vector128Tier || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) return;
        var widened = CliProcess.Run(new Dictionary<string, string>(SimdTier.Environment(tier)) { ["TESSERA_QGEMM_BYTES"] = "0" }, args);
        Assert.True(widened.ExitCode == 0, widened.Stderr);
        Assert.Contains(roof.Replace("vpmaddubsw + ", "", StringComparison.Ordinal), widened.Stdout);
        Assert.Contains(qgemm.Replace("bytes", tier == SimdTier.Avx512 ? "bw" : "", StringComparison.Ordinal), widened.Stdout);
    }
}
