using Tessera.Cli.Conformance;
using Tessera.Engine;
using Tessera.Engine.Optimization;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Tests.Engine.Optimization;

/// <summary>
/// Every pass on the exported models, with fused kernels present (the real ones, or the test's reference ones
/// where they are missing): outputs agree with the unoptimized run within the ONNX Runtime cases' tolerance.
/// </summary>
public class RealModelFusionTests
{
    [Theory]
    [InlineData("bert_b1_s16")]
    [InlineData("gpt_b1_s16")]
    [InlineData("dense_b1")]
    [InlineData("resnet18_b1")]
    [InlineData("ppocr_cls_b1_48x192")]
    [InlineData("ppocr_det_b1_320x320")]
    [InlineData("ppocr_rec_b1_48x320")]
    public void FusedModelMatchesTheUnoptimizedRun(string caseName)
    {
        string dir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName));
        var model = ModelReader.Load(Path.Combine(dir, "model.onnx"));
        var registry = ReferenceFusedKernels.Registry();
        var plain = new InferenceSession(model, new SessionOptions { Registry = registry, GraphOptimization = GraphOptimizationLevel.None });
        var fused = new InferenceSession(model, new SessionOptions { Registry = registry });
        Assert.True(fused.StepCount <= plain.StepCount, $"{fused.StepCount} steps after optimization, {plain.StepCount} before");

        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < plain.Inputs.Count; i++)
        {
            feeds[plain.Inputs[i].Name] = ReferenceData.Read(Path.Combine(dir, "test_data_set_0", $"input_{i}.pb"), plain.Inputs[i].ElementType);
        }

        var expected = plain.Run(feeds);
        var actual = fused.Run(feeds);
        foreach (var (name, want) in expected)
        {
            var w = want.Span<float>();
            var g = actual[name].Span<float>();
            Assert.Equal(w.Length, g.Length);
            for (int i = 0; i < w.Length; i++)
            {
                Assert.True(Math.Abs(w[i] - g[i]) <= 1e-4 + 1e-3 * Math.Abs(w[i]), $"{name}[{i}]: expected {w[i]}, got {g[i]}");
            }
        }
    }
}
