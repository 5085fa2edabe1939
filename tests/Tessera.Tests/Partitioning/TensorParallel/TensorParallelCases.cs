using Tessera.Engine;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Partitioning.TensorParallel;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Partitioning.TensorParallel;

/// <summary>Loads the ONNX Runtime reference cases and runs a model whole and tensor-parallel on the same inputs.</summary>
internal static class TensorParallelCases
{
    public static OnnxModel LoadModel(string caseName) =>
        ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName)), "model.onnx"));

    /// <summary>The inputs of test_data_set_0, named after the model's inputs (input_K.pb is the K-th input).</summary>
    public static Dictionary<string, Tensor> LoadInputs(string caseName, OnnxModel model)
    {
        string dir = Path.Combine(TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName)), "test_data_set_0");
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Inputs.Count; i++)
        {
            inputs[model.Graph.Inputs[i].Name] = TensorProtoFormat.ReadFile(Path.Combine(dir, $"input_{i}.pb"));
        }

        return inputs;
    }

    public static IReadOnlyDictionary<string, Tensor> RunWhole(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs) =>
        new InferenceSession(model).Run(inputs);

    public static IReadOnlyList<IReadOnlyDictionary<string, Tensor>> RunSharded(TensorParallelModel split, IReadOnlyDictionary<string, Tensor> inputs,
        SessionOptions? options = null)
    {
        using var group = new TensorParallelGroup(split.Shards, options ?? new SessionOptions(), TimeSpan.FromSeconds(20));
        return group.RunAll(inputs);
    }
}
