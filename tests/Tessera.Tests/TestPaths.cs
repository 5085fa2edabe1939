namespace Tessera.Tests;

/// <summary>Where the generated reference data lives (see conformance/prepare.sh, run by the README's test command).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Cache => Environment.GetEnvironmentVariable("TESSERA_CACHE") ?? Path.Combine(RepositoryRoot, ".cache");

    /// <summary>The generated ONNX backend node suite (one folder per case).</summary>
    public static string NodeSuite => Path.Combine(Cache, "onnx-node-suite", "node");

    /// <summary>ONNX Runtime reference cases for the PyTorch-exported and PP-OCR models (one folder per case).</summary>
    public static string OrtCases => Path.Combine(Cache, "ort-cases");

    /// <summary>The command that generates everything under <see cref="Cache"/>.</summary>
    public static string PrepareCommand =>
        Environment.GetEnvironmentVariable("TESSERA_CACHE") is { } cache ? $"TESSERA_CACHE={cache} conformance/prepare.sh" : "conformance/prepare.sh";

    /// <summary>A folder under the cache that must exist; fails the test with the command that creates it otherwise.</summary>
    public static string Require(string path)
    {
        if (!Directory.Exists(path))
        {
            Assert.Fail($"{path} is missing: run {PrepareCommand} (from {RepositoryRoot}) to generate the reference data");
        }

        return path;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tessera.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Tessera.slnx)");
    }
}
