using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Partitioning;

/// <summary>A small model for planner tests: <c>layers</c> x (MatMul by a constant width x width weight, then Tanh).</summary>
internal static class LayerChain
{
    public static OnnxModel Build(int layers, int width, object batch) => Chain(batch, Enumerable.Repeat(width, layers + 1).ToArray(), k => k);

    /// <summary>
    /// Layer i maps widths[i] to widths[i + 1] (a weight [widths[i], widths[i + 1]]), weights scaled by 2/√fan-in
    /// so that activations keep their size through narrow layers (agreement tests need outputs well above 0).
    /// </summary>
    public static OnnxModel Widths(object batch, params int[] widths) => Chain(batch, widths, k => Math.Sqrt(k) / 2);

    private static OnnxModel Chain(object batch, int[] widths, Func<int, double> divisor)
    {
        var b = new GraphBuilder().Input("x", DataType.Float32, batch, widths[0]);
        var rng = new Random(7);
        string last = "x";
        for (int i = 0; i + 1 < widths.Length; i++)
        {
            var w = new float[widths[i] * widths[i + 1]];
            for (int k = 0; k < w.Length; k++) w[k] = (float)((rng.NextDouble() - 0.5) / divisor(widths[i]));
            b.Initializer($"w{i}", Tensor.FromArray(w, widths[i], widths[i + 1]));
            b.Node("MatMul", [last, $"w{i}"], [$"m{i}"], $"matmul{i}");
            b.Node("Tanh", [$"m{i}"], [$"h{i}"], $"tanh{i}");
            last = $"h{i}";
        }

        return b.Output(last, DataType.Float32).Build();
    }

    /// <summary>Bytes of one layer's weight.</summary>
    public static long WeightBytes(int width) => 4L * width * width;
}
