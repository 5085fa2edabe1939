using System.Globalization;
using System.Text;

namespace Tessera.Cli.Bench.Gemm;

/// <summary>
/// The text `tessera bench-gemm` prints: the roof line, then one line per shape. "of roof" divides the best window by
/// threads times the roof's best window (as docs/benchmarks.md's roof %), and the rate per CPU second by the roof's
/// rate per CPU second, which moves less when other processes share the cores.
/// </summary>
internal static class GemmBenchReport
{
    public static string Format(GemmBenchSettings settings, GemmRoof? roof, IReadOnlyList<GemmBenchRow> rows)
    {
        string unit = settings.Dtype == GemmDtype.Float ? "GFLOP" : "GOP";
        var text = new StringBuilder();
        var ic = CultureInfo.InvariantCulture;
        string what = settings.Dtype == GemmDtype.Float ? "float" : settings.MicroKernel ? "int8 (u8 x s8)" : "int8 (u8 x s8, float output)";
        string mode = settings.MicroKernel ? "micro-kernel alone, " : "";
        text.AppendLine(ic, $"bench-gemm: {what}, {settings.Threads} thread{(settings.Threads == 1 ? "" : "s")}, "
            + $"B {(settings.TransposeB ? "transposed (N x K)" : "K x N")}, {mode}{settings.Rounds} windows of {settings.Seconds:0.###} s per shape, alternated with the roof's");
        if (roof is null)
        {
            text.AppendLine("roof: none measured for this kernel in this process");
        }
        else
        {
            text.AppendLine(ic, $"roof: {roof.Name}, 1 thread: {roof.Work.BestRate:F1} {unit}/s best window, {roof.Work.CpuRate:F1} per CPU second");
        }

        text.AppendLine(ic, $"{"shape",-16} {unit + "/s best",12} {"median",8} {"ms/call",10} {"CPU ms/call",12} {unit + "/CPU s",11} {"of roof",8} {"(CPU)",6}  kernel (rows checked)");
        foreach (var row in rows)
        {
            var w = row.Work;
            string ofRoof = roof is null ? "-" : Percent(w.BestRate / (settings.Threads * roof.Work.BestRate));
            string ofRoofCpu = roof is null ? "-" : Percent(w.CpuRate / roof.Work.CpuRate);
            text.AppendLine(ic, $"{row.Shape,-16} {w.BestRate,12:F1} {w.MedianRate,8:F1} {w.MedianWallPerUnit * 1e3,10:G4} {w.MedianCpuPerUnit * 1e3,12:G4} {w.CpuRate,11:F1} {ofRoof,8} {ofRoofCpu,6}  {row.Kernel} ({row.CheckedRows} of {row.Shape.M} rows checked)");
        }

        return text.ToString();
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
}
