using Tessera.Engine;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Conformance;

/// <summary>
/// A real model read and written back (inline, or with its weights in an external data file) runs bit-identically:
/// sub-models for other nodes will be written this way, so nothing may be lost or reinterpreted.
/// </summary>
public sealed class ModelRewriteTests
{
    [Theory]
    [InlineData("ppocr_det_b1_320x320", false)]
    [InlineData("ppocr_rec_b1_48x320", true)]
    [InlineData("bert_b1_s16", true)]
    [InlineData("gpt_b1_s16", false)]
    [InlineData("resnet18_b1", true)]
    public void RewrittenModelRunsIdentically(string caseName, bool externalData)
    {
        string caseDir = TestPaths.Require(Path.Combine(TestPaths.OrtCases, caseName));
        var original = InferenceSession.Load(Path.Combine(caseDir, "model.onnx"));
        var inputs = new Dictionary<string, Tensor>();
        for (int i = 0; i < original.Inputs.Count; i++)
        {
            inputs[original.Inputs[i].Name] = TensorProtoFormat.ReadFile(Path.Combine(caseDir, "test_data_set_0", $"input_{i}.pb"));
        }

        string dir = Directory.CreateTempSubdirectory("tessera-rewrite-").FullName;
        try
        {
            string path = Path.Combine(dir, "rewritten.onnx");
            ModelWriter.Save(ModelReader.Load(Path.Combine(caseDir, "model.onnx")), path, externalData ? "rewritten.data" : null);
            var rewritten = InferenceSession.Load(path);

            var expected = original.Run(inputs);
            var actual = rewritten.Run(inputs);
            Assert.Equal(expected.Keys, actual.Keys);
            foreach (var (name, tensor) in expected)
            {
                Assert.Equal(tensor.Shape, actual[name].Shape);
                Assert.True(tensor.Bytes.SequenceEqual(actual[name].Bytes), $"output {name} differs after rewriting");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
