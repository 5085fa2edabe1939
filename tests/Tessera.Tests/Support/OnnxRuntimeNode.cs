using System.Diagnostics;
using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Tests.Support;

/// <summary>
/// Runs a model with onnxruntime-node (conformance/ort-run.mjs, one intra-op thread) on the given inputs and returns
/// the named outputs: the independent reference for models the tests write themselves (quantized ones).
/// </summary>
internal static class OnnxRuntimeNode
{
    private static readonly Dictionary<DataType, string> s_types = new()
    {
        [DataType.Float32] = "float32", [DataType.Int64] = "int64", [DataType.Int32] = "int32", [DataType.UInt8] = "uint8", [DataType.Int8] = "int8",
    };

    public static Dictionary<string, Tensor> Run(string model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputs)
    {
        string work = Directory.CreateTempSubdirectory("tessera-ort-").FullName;
        try
        {
            var inputSpecs = inputs.Select((pair, i) =>
            {
                string file = Path.Combine(work, $"input_{i}.bin");
                File.WriteAllBytes(file, pair.Value.Bytes.ToArray());
                return new { name = pair.Key, type = s_types[pair.Value.DataType], dims = pair.Value.Shape, file };
            }).ToList();
            var outputSpecs = outputs.Select((name, i) => new { name, file = Path.Combine(work, $"output_{i}.bin") }).ToList();
            var job = new { npm = Path.Combine(TestPaths.Cache, "npm"), runs = new[] { new { model, sets = new[] { new { inputs = inputSpecs, outputs = outputSpecs } } } } };
            string jobFile = Path.Combine(work, "job.json");
            File.WriteAllText(jobFile, JsonSerializer.Serialize(job));

            var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "conformance", "ort-run.mjs"));
            info.ArgumentList.Add(jobFile);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2))) process.Kill(entireProcessTree: true);
            Assert.True(process.ExitCode == 0, $"onnxruntime-node failed on {model}: {stderr}{stdout.Result}");

            var results = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var spec in outputSpecs)
            {
                using var meta = JsonDocument.Parse(File.ReadAllText(spec.file + ".json"));
                var type = s_types.Single(t => t.Value == meta.RootElement.GetProperty("type").GetString()).Key;
                int[] dims = meta.RootElement.GetProperty("dims").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                var tensor = Tensor.Allocate(type, dims);
                File.ReadAllBytes(spec.file).CopyTo(tensor.Bytes);
                results[spec.name] = tensor;
            }

            return results;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
