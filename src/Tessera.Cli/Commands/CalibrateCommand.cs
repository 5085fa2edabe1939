using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Partitioning.Cost;

namespace Tessera.Cli.Commands;

/// <summary>`tessera calibrate`: measure this machine's rate per operator family for the planner.</summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "intra-op threads to measure with", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = $"where to write the profile (default {CalibrationProfile.DefaultPath})" };
        var command = new Command("calibrate", "Measure this machine's speed per operator family (used by `tessera plan`)") { threads, output };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(threads);
            if (count < 1) throw new CliException("--threads must be 1 or more");
            var profile = Calibrator.Measure(count);
            string path = parse.GetValue(output) ?? CalibrationProfile.DefaultPath;
            profile.Save(path);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(c, $"matrix products: {profile.MatrixProductFlopsPerSecond / 1e9:F2} GFLOP/s"));
            Console.WriteLine(string.Create(c, $"convolutions:    {profile.ConvolutionFlopsPerSecond / 1e9:F2} GFLOP/s"));
            Console.WriteLine(string.Create(c, $"elementwise:     {profile.ElementwiseBytesPerSecond / 1e9:F2} GB/s"));
            Console.WriteLine(string.Create(c, $"data movement:   {profile.DataMovementBytesPerSecond / 1e9:F2} GB/s"));
            Console.WriteLine(string.Create(c, $"per node:        {profile.NodeOverheadSeconds * 1e6:F2} µs"));
            Console.WriteLine($"calibration written to {path}");
            return 0;
        });
        return command;
    }
}
