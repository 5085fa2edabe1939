using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Partitioning.TensorParallel;

/// <summary>Small graphs with random weights for the rewriter's split patterns.</summary>
internal static class SmallModels
{
    public static Tensor Random(int seed, params int[] shape)
    {
        var random = new Random(seed);
        return Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray(), shape);
    }

    public static Tensor Longs(params long[] values) => Tensor.FromArray(values, values.Length);

    /// <summary>y = x · W (x [batch, k], W [k, n]), optionally + bias.</summary>
    public static OnnxModel Linear(int k, int n, bool bias) =>
        bias
            ? new GraphBuilder().Input("x", DataType.Float32, "batch", k)
                .Initializer("W", Random(1, k, n)).Initializer("b", Random(2, n))
                .Node("MatMul", ["x", "W"], ["xw"], "linear").Node("Add", ["xw", "b"], ["y"], "bias").Output("y").Build()
            : new GraphBuilder().Input("x", DataType.Float32, "batch", k)
                .Initializer("W", Random(1, k, n)).Node("MatMul", ["x", "W"], ["y"], "linear").Output("y").Build();

    /// <summary>Transformer MLP with exact GELU as exporters write it: x + (gelu(x·W1 + b1)·W2 + b2).</summary>
    public static OnnxModel Mlp(int hidden, int inner) => new GraphBuilder()
        .Input("x", DataType.Float32, "batch", "seq", hidden)
        .Initializer("W1", Random(1, hidden, inner)).Initializer("b1", Random(2, inner))
        .Initializer("W2", Random(3, inner, hidden)).Initializer("b2", Random(4, hidden))
        .Initializer("sqrt2", Tensor.Scalar(1.4142135f)).Initializer("one", Tensor.Scalar(1f)).Initializer("half", Tensor.Scalar(0.5f))
        .Node("MatMul", ["x", "W1"], ["h0"], "fc1").Node("Add", ["b1", "h0"], ["h"], "fc1_bias")
        .Node("Div", ["h", "sqrt2"], ["g0"], "gelu_div").Node("Erf", ["g0"], ["g1"], "gelu_erf")
        .Node("Add", ["g1", "one"], ["g2"], "gelu_add").Node("Mul", ["h", "g2"], ["g3"], "gelu_mul")
        .Node("Mul", ["g3", "half"], ["g"], "gelu_half")
        .Node("MatMul", ["g", "W2"], ["o0"], "fc2").Node("Add", ["b2", "o0"], ["o"], "fc2_bias")
        .Node("Add", ["x", "o"], ["y"], "residual").Output("y").Build();

    /// <summary>Self-attention with separate Q, K, V projections, a [0, 0, heads, dh] reshape and an output projection.</summary>
    public static OnnxModel Attention(int heads, int headSize)
    {
        int d = heads * headSize;
        var b = new GraphBuilder().Input("x", DataType.Float32, "batch", "seq", d)
            .Initializer("heads_shape", Longs(0, 0, heads, headSize)).Initializer("merged_shape", Longs(0, 0, d))
            .Initializer("scale", Tensor.Scalar(1f / MathF.Sqrt(headSize)));
        int seed = 10;
        foreach (var (name, perm) in new[] { ("q", new long[] { 0, 2, 1, 3 }), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3]) })
        {
            b.Initializer($"W{name}", Random(seed++, d, d)).Initializer($"b{name}", Random(seed++, d))
                .Node("MatMul", ["x", $"W{name}"], [$"{name}0"], $"{name}_proj").Node("Add", [$"{name}0", $"b{name}"], [$"{name}1"], $"{name}_bias")
                .Node("Reshape", [$"{name}1", "heads_shape"], [$"{name}2"], $"{name}_heads")
                .Node("Transpose", [$"{name}2"], [$"{name}"], $"{name}_t", GraphBuilder.Ints("perm", perm));
        }

        return b.Node("MatMul", ["q", "k"], ["s0"], "scores").Node("Mul", ["s0", "scale"], ["s1"], "scaled")
            .Node("Softmax", ["s1"], ["p"], "softmax", GraphBuilder.Int("axis", -1))
            .Node("MatMul", ["p", "v"], ["c0"], "context").Node("Transpose", ["c0"], ["c1"], "context_t", GraphBuilder.Ints("perm", 0, 2, 1, 3))
            .Node("Reshape", ["c1", "merged_shape"], ["c"], "merge")
            .Initializer("Wo", Random(seed++, d, d)).Initializer("bo", Random(seed, d))
            .Node("MatMul", ["c", "Wo"], ["o0"], "out_proj").Node("Add", ["o0", "bo"], ["o"], "out_bias")
            .Node("Add", ["x", "o"], ["y"], "residual").Output("y").Build();
    }

    /// <summary>Two Gemm layers with transB, alpha and beta: relu(0.5·x·W1ᵀ + 2·c1) then 1·h·W2 + 0.25·c2.</summary>
    public static OnnxModel Gemms(int input, int inner, int output) => new GraphBuilder()
        .Input("x", DataType.Float32, "batch", input)
        .Initializer("W1", Random(1, inner, input)).Initializer("c1", Random(2, inner))
        .Initializer("W2", Random(3, inner, output)).Initializer("c2", Random(4, 1, output))
        .Node("Gemm", ["x", "W1", "c1"], ["h0"], "gemm1", GraphBuilder.Int("transB", 1), GraphBuilder.Float("alpha", 0.5f), GraphBuilder.Float("beta", 2f))
        .Node("Relu", ["h0"], ["h"], "relu")
        .Node("Gemm", ["h", "W2", "c2"], ["y"], "gemm2", GraphBuilder.Float("beta", 0.25f))
        .Output("y").Build();

    /// <summary>x·W1 → Relu → ·W2 with dimensions that a degree may not divide.</summary>
    public static OnnxModel Chain(int input, int inner, int output) => new GraphBuilder()
        .Input("x", DataType.Float32, "batch", input)
        .Initializer("W1", Random(1, input, inner)).Initializer("W2", Random(2, inner, output))
        .Node("MatMul", ["x", "W1"], ["h0"], "first").Node("Relu", ["h0"], ["h"], "relu")
        .Node("MatMul", ["h", "W2"], ["y"], "second").Output("y").Build();
}
