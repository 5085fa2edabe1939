using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Onnx;

public class ModelRoundTripTests
{
    private static OnnxModel SampleModel()
    {
        var weights = Tensor.FromArray(Enumerable.Range(0, 600).Select(i => i * 0.5f).ToArray(), 20, 30);
        return new GraphBuilder()
            .Input("x", DataType.Float32, "batch", 20)
            .Initializer("w", weights)
            .Initializer("ids", Tensor.FromArray(new long[] { 3, -1, 7 }, 3))
            .Initializer("flag", Tensor.FromArray(new[] { true, false }, 2))
            .Node("MatMul", ["x", "w"], ["h"], "mm")
            .Node("Gemm", ["h", "", "ids"], ["y"], "g",
                GraphBuilder.Float("alpha", 0.25f), GraphBuilder.Int("transB", 1), GraphBuilder.Ints("perm", 1, 0, -2), GraphBuilder.Str("mode", "nearest"))
            .Output("y", DataType.Float32)
            .Build(17);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteThenReadGivesTheSameModel(bool externalData)
    {
        string dir = Directory.CreateTempSubdirectory("tessera-rt-").FullName;
        try
        {
            var original = SampleModel();
            string path = Path.Combine(dir, "m.onnx");
            ModelWriter.Save(original, path, externalData ? "m.weights" : null, externalThresholdBytes: 64);
            Assert.Equal(externalData, File.Exists(Path.Combine(dir, "m.weights")));

            var back = ModelReader.Load(path);
            Assert.Equal(17, back.DefaultOpset);
            Assert.Equal("tessera-tests", back.ProducerName);
            Assert.Equal(["x"], back.Graph.Inputs.Select(i => i.Name));
            Assert.Equal("[batch,20]", back.Graph.Inputs[0].FormatShape());
            Assert.Equal(DataType.Float32, back.Graph.Outputs[0].ElementType);
            Assert.Equal(original.Graph.Nodes.Select(n => (n.Name, n.OpType, string.Join(",", n.Inputs))), back.Graph.Nodes.Select(n => (n.Name, n.OpType, string.Join(",", n.Inputs))));
            var gemm = back.Graph.Nodes[1];
            Assert.Equal(0.25f, gemm.Attributes["alpha"].Float);
            Assert.Equal(1, gemm.Attributes["transB"].Int);
            Assert.Equal([1L, 0, -2], gemm.Attributes["perm"].Ints);
            Assert.Equal("nearest", gemm.Attributes["mode"].String);
            foreach (var (name, tensor) in original.Graph.Initializers)
            {
                var read = back.Graph.Initializers[name];
                Assert.Equal(tensor.DataType, read.DataType);
                Assert.Equal(tensor.Shape, read.Shape);
                Assert.True(tensor.Bytes.SequenceEqual(read.Bytes), $"initializer {name} differs");
            }

            // Writing the read model again gives the same bytes: nothing was lost or reinterpreted.
            Assert.Equal(ModelWriter.Serialize(back), ModelWriter.Serialize(ModelReader.Parse(ModelWriter.Serialize(back), dir)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExternalDataOutsideTheModelFolderIsRefused()
    {
        var proto = Tessera.Tensors.Formats.TensorProtoFormat.FromTensor(Tensor.Scalar(1f), "w");
        proto.RawData = Google.Protobuf.ByteString.Empty;
        proto.DataLocation = Tessera.Onnx.Protobuf.TensorProto.Types.DataLocation.External;
        proto.ExternalData.Add(new Tessera.Onnx.Protobuf.StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        var e = Assert.Throws<InvalidDataException>(() => Tessera.Tensors.Formats.TensorProtoFormat.ToTensor(proto, Path.GetTempPath()));
        Assert.Contains("outside the model's folder", e.Message);
    }
}
