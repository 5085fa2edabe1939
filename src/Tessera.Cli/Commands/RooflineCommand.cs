using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tessera.Cli.Bench;
using Tessera.Cli.Common;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera roofline`: the one-thread FMA peak per vector width, the bound bench/run.sh reads GFLOP/s against, and the
/// int8 peaks: AVX-VNNI's, and the widened kernels' step (the int8 bound on CPUs without AVX-VNNI).
/// </summary>
internal static class RooflineCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "length of each timed window", DefaultValueFactory = _ => 0.3 };
        var rounds = new Option<int>("--rounds") { Description = "windows per vector width (the best is kept)", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("roofline", "Measure single-precision FMA GFLOP/s of one thread with 512-, 256- and 128-bit vectors (the widths this process runs), and int8 GOP/s (vpdpbusd, and widened vpmaddwd)")
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
            double? vnni = VnniRoofline.Measure(s, r);
            var widened = WidenedRoofline.Measure(s, r);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    fma_gflops_per_thread = peaks.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Value, 1)),
                    vpdpbusd_256_gops_per_thread = vnni is { } v ? Math.Round(v, 1) : (double?)null,
                    vpmaddwd_gops_per_thread = widened.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Value, 1)),
                }));
            }
            else if (peaks.Count == 0)
            {
                Console.WriteLine("fma peak, 1 thread: no hardware FMA in this process");
            }
            else
            {
                Console.WriteLine("fma peak, 1 thread: " + string.Join(", ", peaks.Reverse().Select(p =>
                    string.Create(CultureInfo.InvariantCulture, $"{p.Key}-bit {p.Value:F1} GFLOP/s"))));
            }

            if (!parse.GetValue(json))
            {
                Console.WriteLine(vnni is { } v
                    ? string.Create(CultureInfo.InvariantCulture, $"int8 peak, 1 thread: vpdpbusd 256-bit {v:F1} GOP/s (AVX-VNNI; .NET 10 has no 512-bit VNNI)")
                    : "int8 peak, 1 thread: no AVX-VNNI in this process");
                if (widened.Count > 0)
                {
                    Console.WriteLine("int8 peak without VNNI, 1 thread (operands widened to 16 bits, vpmaddwd + vpaddd): " + string.Join(", ",
                        widened.Reverse().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}-bit {p.Value:F1} GOP/s"))));
                }
            }

            return 0;
        });
        return command;
    }
}
