using System.Globalization;

namespace Tessera.Serving.Repository;

/// <summary>
/// One model's folder in a repository directory: its config (<c>config.json</c>, optional) and its version files
/// (<c>&lt;version&gt;/model.onnx</c>, positive integer versions). An ensemble's folder has a config and no versions.
/// </summary>
internal sealed record ModelFolder(string Name, string Path, ModelConfig Config, IReadOnlyList<(long Version, string File)> Versions)
{
    public const string ModelFileName = "model.onnx";
    public const string ConfigFileName = "config.json";

    /// <summary>The names of the model folders under <paramref name="directory"/>, in ordinal order.</summary>
    public static IReadOnlyList<string> Names(string directory) =>
        [.. System.IO.Directory.GetDirectories(directory).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>Reads the folder of <paramref name="name"/>; a one-line InvalidDataException when it is not a model.</summary>
    public static ModelFolder Read(string directory, string name, ModelConfig defaults)
    {
        string modelDir = System.IO.Path.Combine(directory, name);
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name is "." or ".." || !System.IO.Directory.Exists(modelDir))
        {
            throw new InvalidDataException($"the repository has no model folder '{name}'");
        }

        string configPath = System.IO.Path.Combine(modelDir, ConfigFileName);
        var config = File.Exists(configPath) ? ModelConfig.Read(configPath, defaults) : defaults;
        if (config.Ensemble is not null)
        {
            return new ModelFolder(name, modelDir, config, []);
        }

        var versions = new List<(long, string)>();
        foreach (string dir in System.IO.Directory.GetDirectories(modelDir))
        {
            if (long.TryParse(System.IO.Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out long version) && version > 0)
            {
                string file = System.IO.Path.Combine(dir, ModelFileName);
                if (!File.Exists(file)) throw new InvalidDataException($"'{dir}' has no {ModelFileName}");
                versions.Add((version, file));
            }
        }

        if (versions.Count == 0)
        {
            throw new InvalidDataException($"model folder '{modelDir}' has no version folder (e.g. {name}/1/{ModelFileName})");
        }

        versions.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new ModelFolder(name, modelDir, config, versions);
    }
}
