using Tessera.Cli.Common;
using Tessera.Kernels.Core;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// Runs `tessera bench-gemm`: per shape, the operands are made, one product is checked against the reference (a wrong
/// kernel stops the run before anything is timed), the kernel is warmed up and its calls per window calibrated; then
/// the roof's windows and the shape's alternate, so a burst of load from other processes hits both alike.
/// </summary>
internal static class GemmBenchRunner
{
    public static (GemmRoof? Roof, List<GemmBenchRow> Rows) Run(GemmBenchSettings settings)
    {
        var parallel = new ParallelRunner(settings.Threads);
        var roof = GemmRoof.For(settings.Dtype, settings.SevenBit);
        roof?.Work.Calibrate(settings.Seconds, startUnits: 1 << 14);
        var rows = new List<GemmBenchRow>();
        foreach (var shape in settings.Shapes)
        {
            using var gemm = Create(settings, shape, parallel);
            gemm.Run();
            if (gemm.Check() is { } wrong)
            {
                throw new CliException(wrong, exitCode: 1);
            }

            var work = new TimedWork(gemm.Operations, calls =>
            {
                for (long i = 0; i < calls; i++)
                {
                    gemm.Run();
                }
            });
            work.Calibrate(Math.Min(settings.Seconds, 0.2));
            work.Calibrate(settings.Seconds, work.Units);
            for (int r = 0; r < settings.Rounds; r++)
            {
                roof?.Work.TimeWindow();
                work.TimeWindow();
            }

            rows.Add(new GemmBenchRow(shape, gemm.Kernel, gemm.CheckedRows.Length, work));
        }

        return (roof, rows);
    }

    internal static IGemmCase Create(GemmBenchSettings settings, GemmShape shape, ParallelRunner parallel) => (settings.Dtype, settings.MicroKernel) switch
    {
        (GemmDtype.Float, false) => new FloatGemmCase(shape, settings.TransposeB, settings.PrepackedB, parallel),
        (GemmDtype.Float, true) => new FloatMicroKernelCase(shape, settings.TransposeB),
        (_, false) => new Int8GemmCase(shape, settings.TransposeB, settings.PrepackedB, settings.SevenBit, parallel),
        _ => new Int8MicroKernelCase(shape, settings.TransposeB, settings.SevenBit),
    };
}
