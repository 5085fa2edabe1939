namespace Tessera.Fuzz;

/// <summary>
/// Real files for seed corpora: the reference data folder ($TESSERA_CACHE, else .cache in the repository) with the
/// ONNX node suite's models and TensorProto .pb files, and the inputs checked in under fuzz/seeds/TARGET. Sorted by
/// path so that a seed number means the same file on every machine; none when a folder is missing.
/// </summary>
internal sealed class SeedFiles
{
    private readonly string? _root;
    private readonly string? _checkedIn;

    public SeedFiles(string? root, string? checkedIn)
    {
        _root = root is not null && Directory.Exists(root) ? root : null;
        _checkedIn = checkedIn is not null && Directory.Exists(checkedIn) ? checkedIn : null;
    }

    public static SeedFiles FromEnvironment()
    {
        // The repository, found from the build output (fuzz/Tessera.Fuzz/bin/..., artifacts/fuzz/..., the tests' bin/...).
        string? repository = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && repository is null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tessera.slnx"))) repository = dir.FullName;
        }

        string? cache = Environment.GetEnvironmentVariable("TESSERA_CACHE");
        if (string.IsNullOrEmpty(cache) && repository is not null) cache = Path.Combine(repository, ".cache");
        return new SeedFiles(cache, repository is null ? null : Path.Combine(repository, "fuzz", "seeds"));
    }

    /// <summary>The files checked in under fuzz/seeds/<paramref name="target"/>.</summary>
    public IEnumerable<byte[]> CheckedIn(string target)
    {
        string dir = _checkedIn is null ? string.Empty : Path.Combine(_checkedIn, target);
        return Directory.Exists(dir) ? Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList() : [];
    }

    /// <summary>Up to <paramref name="count"/> files named <paramref name="pattern"/> under <paramref name="folder"/>, each at most <paramref name="maxBytes"/>, spread evenly over the sorted list.</summary>
    public IEnumerable<byte[]> Read(string folder, string pattern, int count, long maxBytes)
    {
        string dir = _root is null ? string.Empty : Path.Combine(_root, folder);
        if (_root is null || !Directory.Exists(dir))
        {
            return [];
        }

        var files = Directory.EnumerateFiles(dir, pattern, SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length <= maxBytes)
            .Order(StringComparer.Ordinal)
            .ToList();
        int step = Math.Max(1, files.Count / Math.Max(1, count));
        return files.Where((_, i) => i % step == 0).Take(count).Select(File.ReadAllBytes).ToList();
    }
}
