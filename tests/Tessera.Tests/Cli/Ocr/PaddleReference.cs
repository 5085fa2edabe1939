using System.Diagnostics;
using System.Text.Json;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Cli.Ocr;

/// <summary>
/// PaddleOCR's own post-processing (OpenCV, pyclipper, numpy in Debian's python, conformance/ppocr-postprocess.py),
/// run on the same model outputs as Tessera's.
/// </summary>
internal static class PaddleReference
{
    private const string Python = "/usr/bin/python3";

    public static string ModelsFolder => TestPaths.Require(Path.Combine(TestPaths.Cache, "npm", "node_modules", "@gutenye", "ocr-models", "assets"));

    /// <summary>The boxes PaddleOCR finds in a [H, W] probability map for an image of the given size.</summary>
    public static (double[][] Corners, double Score)[] Boxes(Tensor map, int imageWidth, int imageHeight)
    {
        using var json = Run("db", map, imageWidth.ToString(System.Globalization.CultureInfo.InvariantCulture), imageHeight.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return [.. json.RootElement.EnumerateArray().Select(b => (
            b.GetProperty("box").EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray(),
            b.GetProperty("score").GetDouble()))];
    }

    /// <summary>PaddleOCR's greedy CTC decoding of [N, T, C] probabilities over the dictionary file.</summary>
    public static (string Text, double Confidence)[] Decode(Tensor probabilities, string keys)
    {
        using var json = Run("ctc", probabilities, keys);
        return [.. json.RootElement.EnumerateArray().Select(r => (r.GetProperty("text").GetString()!, r.GetProperty("confidence").GetDouble()))];
    }

    private static JsonDocument Run(string mode, Tensor tensor, params string[] args)
    {
        string npy = Path.Combine(Path.GetTempPath(), $"tessera-ppocr-{Guid.NewGuid():N}.npy");
        NpyFormat.WriteFile(npy, tensor);
        try
        {
            var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "conformance", "ppocr-postprocess.py"));
            info.ArgumentList.Add(mode);
            info.ArgumentList.Add(npy);
            foreach (string a in args) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "ppocr-postprocess.py did not finish in a minute");
            Assert.True(process.ExitCode == 0, $"ppocr-postprocess.py failed (Debian's python3-opencv and python3-pyclipper are needed: run {TestPaths.PrepareCommand}): {stderr.Result}");
            return JsonDocument.Parse(stdout);
        }
        finally
        {
            File.Delete(npy);
        }
    }
}
