using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Cli.Common;

/// <summary>Reads tensors by file extension (.npy or .pb).</summary>
internal static class TensorFiles
{
    public static Tensor Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"input file '{path}' does not exist");
        }

        try
        {
            return Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".npy" => NpyFormat.ReadFile(path),
                ".pb" => TensorProtoFormat.ReadFile(path),
                _ => throw new CliException($"input file '{path}' must be .npy or .pb"),
            };
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or EndOfStreamException or IOException)
        {
            throw new CliException($"cannot read '{path}': {e.Message}");
        }
    }

    /// <summary>Parses NAME=FILE pairs given to --input.</summary>
    public static Dictionary<string, Tensor> ReadInputs(IEnumerable<string> specs)
    {
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
            {
                throw new CliException($"--input '{spec}' must be NAME=FILE");
            }

            string name = spec[..eq];
            if (!inputs.TryAdd(name, Read(spec[(eq + 1)..])))
            {
                throw new CliException($"input '{name}' is given twice");
            }
        }

        return inputs;
    }
}
