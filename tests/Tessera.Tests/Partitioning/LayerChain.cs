using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Partitioning;

/// <summary>A small model for planner tests: <c>layers</c> x (MatMul by a constant width x width weight, then Tanh).</summary>
internal static class LayerChain
{
    public static OnnxModel Build(int layers, int width, object batch)
    {
        var b = new GraphBuilder().Input("x", DataType.Float32, batch, width);
        var rng = new Random(7);
        string last = "x";
        for (int i = 0; i < layers; i++)
        {
            var w = new float[width * width];
            for (int k = 0; k < w.Length; k++) w[k] = (float)(rng.NextDouble() - 0.5) / width;
            b.Initializer($"w{i}", Tensor.FromArray(w, width, width));
            b.Node("MatMul", [last, $"w{i}"], [$"m{i}"], $"matmul{i}");
            b.Node("Tanh", [$"m{i}"], [$"h{i}"], $"tanh{i}");
            last = $"h{i}";
        }

        return b.Output(last, DataType.Float32).Build();
    }

    /// <summary>Bytes of one layer's weight.</summary>
    public static long WeightBytes(int width) => 4L * width * width;
}
