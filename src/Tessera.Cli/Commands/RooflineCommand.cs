using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tessera.Cli.Bench;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera roofline`: the one-thread FMA peak per vector width, the bound bench/run.sh reads GFLOP/s against, and the
/// int8 peaks: AVX-VNNI's, the widened kernels' step and the 7-bit byte kernels' step (the int8 bounds on CPUs without
/// AVX-VNNI). Each figure both as the best wall-clock window and per CPU second of this process.
/// </summary>
internal static class RooflineCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "length of each timed window", DefaultValueFactory = _ => 0.3 };
        var rounds = new Option<int>("--rounds") { Description = "windows per vector width (the best is kept)", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("roofline", "Measure single-precision FMA GFLOP/s of one thread with 512-, 256- and 128-bit vectors (the widths this process runs), and int8 GOP/s (vpdpbusd, widened vpmaddwd, 7-bit vpmaddubsw), best wall-clock window and per CPU second")
        {
            seconds, rounds, json,
        };
        command.SetAction(parse =>
        {
            double s = parse.GetValue(seconds);
            int r = parse.GetValue(rounds);
            if (!(s > 0 && s <= 60) || r < 1)
            {
                throw new CliException("--seconds must be in (0, 60] and --rounds at least 1");
            }

            var peaks = FmaRoofline.Measure(s, r);
            RoofRate? vnni = VnniRoofline.Measure(s, r);
            var widened = WidenedRoofline.Measure(s, r);
            var bytes = BytesRoofline.Measure(s, r);
            if (parse.GetValue(json))
            {
                Console.WriteLine(Json(peaks, vnni, widened, bytes));
                return 0;
            }

            Console.WriteLine(peaks.Count == 0
                ? "fma peak, 1 thread: no hardware FMA in this process"
                : "fma peak, 1 thread: " + Widths(peaks, "GFLOP/s"));
            Console.WriteLine(vnni is { } n
                ? string.Create(CultureInfo.InvariantCulture, $"int8 peak, 1 thread: vpdpbusd 256-bit {Rate(n, "GOP/s")} (AVX-VNNI; .NET 10 has no 512-bit VNNI)")
                : "int8 peak, 1 thread: no AVX-VNNI in this process");
            if (widened.Count > 0)
            {
                Console.WriteLine("int8 peak without VNNI, 1 thread (operands widened to 16 bits, vpmaddwd + vpaddd): " + Widths(widened, "GOP/s"));
            }

            if (bytes.Count > 0)
            {
                Console.WriteLine("int8 peak of the 7-bit byte step, 1 thread (weights within [-64, 63], vpmaddubsw + vpmaddwd by ones + vpaddd): " + Widths(bytes, "GOP/s"));
            }

            return 0;
        });
        return command;
    }

    // The *_per_thread fields keep their meaning (best wall-clock window); *_per_cpu_second are the same loops' work
    // over this process's CPU seconds, which load from other processes does not halve.
    internal static string Json(
        SortedDictionary<int, RoofRate> peaks, RoofRate? vnni, SortedDictionary<int, RoofRate> widened, SortedDictionary<int, RoofRate> bytes) =>
        JsonSerializer.Serialize(new
        {
            fma_gflops_per_thread = Best(peaks),
            fma_gflops_per_cpu_second = PerCpuSecond(peaks),
            vpdpbusd_256_gops_per_thread = vnni is { } v ? Math.Round(v.Best, 1) : (double?)null,
            vpdpbusd_256_gops_per_cpu_second = vnni is { } vc ? Math.Round(vc.PerCpuSecond, 1) : (double?)null,
            vpmaddwd_gops_per_thread = Best(widened),
            vpmaddwd_gops_per_cpu_second = PerCpuSecond(widened),
            vpmaddubsw_gops_per_thread = Best(bytes),
            vpmaddubsw_gops_per_cpu_second = PerCpuSecond(bytes),
        });

    private static Dictionary<string, double> Best(SortedDictionary<int, RoofRate> rates) =>
        rates.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Value.Best, 1));

    private static Dictionary<string, double> PerCpuSecond(SortedDictionary<int, RoofRate> rates) =>
        rates.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Value.PerCpuSecond, 1));

    private static string Widths(SortedDictionary<int, RoofRate> rates, string unit) =>
        string.Join(", ", rates.Reverse().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}-bit {Rate(p.Value, unit)}")));

    // The wall-clock figure first, as before; the CPU-second one is what load from other processes leaves alone.
    private static string Rate(RoofRate rate, string unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{rate.Best:F1} {unit} ({rate.PerCpuSecond:F1} per CPU second)");
}
