namespace Tessera.Tests.Fuzzing;

/// <summary>The inputs that once broke a parser, checked in under Fuzzing/Crashes/TARGET/ (one file each, named for what it does).</summary>
internal static class CrashInputs
{
    public static string Folder(string target) => Path.Combine(TestPaths.RepositoryRoot, "tests", "Tessera.Tests", "Fuzzing", "Crashes", target);

    public static IEnumerable<byte[]> For(string target) =>
        Directory.Exists(Folder(target)) ? Directory.GetFiles(Folder(target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList() : [];

    public static byte[] Read(string target, string name) => File.ReadAllBytes(Path.Combine(Folder(target), name));
}
