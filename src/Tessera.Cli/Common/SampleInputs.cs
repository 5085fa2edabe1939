using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Cli.Common;

/// <summary>
/// Sample inputs from a folder: each subfolder (sorted by name) is one sample, or the folder itself when it holds the
/// files. A sample's files are NAME.npy / NAME.pb named after graph inputs, or input_K.pb in graph input order (the
/// ONNX backend-test layout, so test_data_set_N folders work as they are).
/// </summary>
internal static class SampleInputs
{
    public static List<IReadOnlyDictionary<string, Tensor>> Read(string folder, OnnxGraph graph, string option)
    {
        if (!Directory.Exists(folder)) throw new CliException($"{option} folder '{folder}' does not exist");
        var inputs = graph.Inputs.Where(i => !graph.Initializers.ContainsKey(i.Name)).Select(i => i.Name).ToList();
        var folders = Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0) folders.Add(folder);
        var samples = new List<IReadOnlyDictionary<string, Tensor>>();
        foreach (string sample in folders)
        {
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int k = 0; k < inputs.Count; k++)
            {
                string name = inputs[k];
                string? path = new[] { $"input_{k}.pb", TensorFileName.Safe(name) + ".npy", TensorFileName.Safe(name) + ".pb" }
                    .Select(f => Path.Combine(sample, f)).FirstOrDefault(File.Exists);
                tensors[name] = path is null
                    ? throw new CliException($"{option} sample '{sample}' has no file for input '{name}' (input_{k}.pb or {TensorFileName.Safe(name)}.npy)")
                    : TensorFiles.Read(path);
            }

            samples.Add(tensors);
        }

        return samples;
    }
}
