using Tessera.Cli.Common;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>What `tessera bench-gemm` was asked to run, checked: every mistake is one <see cref="CliException"/> line.</summary>
internal sealed record GemmBenchSettings(
    IReadOnlyList<GemmShape> Shapes, GemmDtype Dtype, int Threads, double Seconds, int Rounds, bool TransposeB, bool PrepackedB, bool MicroKernel = false, bool SevenBit = false)
{
    public const int MaxThreads = 256;

    public static GemmBenchSettings Create(string[] shapes, string dtype, int threads, double seconds, int rounds, bool transposeB, bool prepackedB, bool microKernel = false, bool sevenBit = false)
    {
        if (shapes.Length == 0)
        {
            throw new CliException("give at least one --shape MxNxK");
        }

        var type = dtype.ToLowerInvariant() switch
        {
            "float" or "float32" or "fp32" => GemmDtype.Float,
            "int8" or "uint8" => GemmDtype.Int8,
            _ => throw new CliException($"--dtype '{dtype}' must be float or int8"),
        };
        if (threads < 1 || threads > MaxThreads)
        {
            throw new CliException($"--threads must be from 1 to {MaxThreads}, got {threads}");
        }

        if (!(seconds > 0 && seconds <= 60))
        {
            throw new CliException("--seconds must be in (0, 60]");
        }

        if (rounds < 1 || rounds > 1000)
        {
            throw new CliException($"--rounds must be from 1 to 1000, got {rounds}");
        }

        if (microKernel && threads != 1)
        {
            throw new CliException("--micro-kernel runs the register tile on one thread: leave out --threads");
        }

        if (sevenBit && type != GemmDtype.Int8)
        {
            throw new CliException("--seven-bit is for --dtype int8");
        }

        return new GemmBenchSettings(shapes.Select(GemmShape.Parse).ToArray(), type, threads, seconds, rounds, transposeB, prepackedB || microKernel, microKernel, sevenBit);
    }
}
