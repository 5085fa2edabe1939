namespace Tessera.Tests.Partitioning;

/// <summary>Runs Debian's python3-onnx checker over written model files: each must be a valid standalone ONNX model.</summary>
internal static class OnnxChecker
{
    public static void AssertValid(IEnumerable<string> paths)
    {
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import onnx, sys\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p))\nprint('ok')");
        foreach (string path in paths) info.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        Assert.True(process.ExitCode == 0 && stdout.Trim() == "ok", stderr.Result);
    }
}
