using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>Runs a model with and without graph optimization and checks that the outputs agree.</summary>
internal static class OptimizationHarness
{
    public static float[] RandomFloats(int count, int seed, float range = 3f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * range)).ToArray();
    }

    public static Tensor Random(int seed, params int[] shape) => Tensor.FromArray(RandomFloats(ShapeMath.ElementCount(shape), seed), shape);

    /// <summary>
    /// Optimizes <paramref name="model"/> at <paramref name="level"/>, checks every output against the unoptimized run
    /// within 1e-5 relative, and returns the optimized model for structural checks.
    /// </summary>
    public static OnnxModel Check(OnnxModel model, Dictionary<string, Tensor> feeds,
        GraphOptimizationLevel level = GraphOptimizationLevel.All, KernelRegistry? registry = null)
    {
        registry ??= KernelRegistry.Default;
        var optimized = GraphOptimizer.Optimize(model, new SessionOptions { Registry = registry, GraphOptimization = level });
        var expected = new InferenceSession(model, new SessionOptions { Registry = registry, GraphOptimization = GraphOptimizationLevel.None }).Run(feeds);
        var actual = new InferenceSession(model, new SessionOptions { Registry = registry, GraphOptimization = level }).Run(feeds);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, want) in expected)
        {
            var got = actual[name];
            Assert.Equal(want.Shape, got.Shape);
            var w = want.Span<float>();
            var g = got.Span<float>();
            for (int i = 0; i < w.Length; i++)
            {
                double tolerance = 1e-5 * Math.Max(1, Math.Abs(w[i]));
                Assert.True(Math.Abs(w[i] - g[i]) <= tolerance, $"{name}[{i}]: expected {w[i]}, got {g[i]}");
            }
        }

        return optimized;
    }

    public static string[] Ops(OnnxModel model) => model.Graph.Nodes.Where(n => n.OpType != "Constant").Select(n => n.OpType).ToArray();

    public static OnnxNode Single(OnnxModel model, string opType) => Assert.Single(model.Graph.Nodes, n => n.OpType == opType);

    public static NodeAttribute Floats(string name, params float[] values) => new() { Name = name, Kind = AttributeKind.Floats, Floats = values };

    public static OnnxModel WithConstantNode(OnnxModel model, string name, Tensor value)
    {
        var node = new OnnxNode { OpType = "Constant", Name = name };
        node.Outputs.Add(name);
        node.Attributes["value"] = new NodeAttribute { Name = "value", Kind = AttributeKind.Tensor, Tensor = value };
        model.Graph.Nodes.Insert(0, node);
        return model;
    }
}
