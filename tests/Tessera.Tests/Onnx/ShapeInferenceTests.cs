using Tessera.Onnx.Graph;
using Tessera.Onnx.Inference;
using Tessera.Onnx.Io;
using Tessera.Tensors.Formats;
using Tessera.Tests.Conformance;

namespace Tessera.Tests.Onnx;

public class ShapeInferenceTests
{
    /// <summary>
    /// Every node-suite case whose declared output shapes we erase must get them back from inference, equal to
    /// the shapes of the reference outputs (computed by ONNX's numpy reference) wherever inference claims to know them.
    /// </summary>
    [Fact]
    public void InferredOutputShapesMatchNodeSuiteReferenceOutputs()
    {
        int checkedOutputs = 0;
        var wrong = new List<string>();
        foreach (string name in NodeSuite.Cases("test_"))
        {
            string dir = Path.Combine(TestPaths.NodeSuite, name);
            OnnxModel model;
            try
            {
                model = ModelReader.Load(Path.Combine(dir, "model.onnx"));
            }
            catch (OnnxFormatException)
            {
                continue;
            }

            foreach (var output in model.Graph.Outputs) output.Shape = null;
            var inputShapes = new Dictionary<string, int[]>();
            string dataSet = Path.Combine(dir, "test_data_set_0");
            for (int i = 0; i < model.Graph.Inputs.Count; i++)
            {
                string file = Path.Combine(dataSet, $"input_{i}.pb");
                if (TryReadShape(file) is { } shape) inputShapes[model.Graph.Inputs[i].Name] = shape;
            }

            ShapeInference.Infer(model, inputShapes);
            for (int i = 0; i < model.Graph.Outputs.Count; i++)
            {
                string file = Path.Combine(dataSet, $"output_{i}.pb");
                var inferred = ShapeInference.KnownShape(model.Graph, model.Graph.Outputs[i].Name);
                if (inferred is null || TryReadShape(file) is not { } expected) continue;
                checkedOutputs++;
                if (!inferred.SequenceEqual(expected))
                {
                    wrong.Add($"{name}: inferred [{string.Join(",", inferred)}], reference [{string.Join(",", expected)}]");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(checkedOutputs > 500, $"only {checkedOutputs} outputs had a known inferred shape");
    }

    // Sequence and optional cases store other protobuf messages in their .pb files; they are not tensors.
    private static int[]? TryReadShape(string file)
    {
        try
        {
            return File.Exists(file) ? TensorProtoFormat.ReadFile(file).Shape : null;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            return null;
        }
    }

    [Fact]
    public void ShapeChainsBuiltAtRunTimeStayKnown()
    {
        // x[N,3,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape: the exporter's flatten idiom.
        var model = ReshapeToARunTimeShape("n1", "minus1");

        ShapeInference.Infer(model, new Dictionary<string, int[]> { ["x"] = [5, 3, 4] });

        Assert.Equal(new[] { 5, 12 }, ShapeInference.KnownShape(model.Graph, "y"));
        Assert.Equal(Tessera.Tensors.DataType.Float32, model.Graph.Outputs[0].ElementType);
    }

    [Fact]
    public void AReshapeToAShapeOfUnknownSizesKeepsItsRank()
    {
        // Concat([4], [-1], n) with N symbolic: the target's values are not known, its length is.
        var model = ReshapeToARunTimeShape("four", "minus1", "n1");

        ShapeInference.Infer(model);

        var y = model.Graph.FindValueInfo("y");
        Assert.NotNull(y?.Shape);
        Assert.Equal(3, y!.Shape!.Length);
        Assert.Equal(Tessera.Tensors.DataType.Float32, y.ElementType);
    }

    // x[N,3,4] -> Shape -> Gather(0) -> Unsqueeze = n1 (N as a 1-D tensor); Concat of the named pieces ("n1", "four"
    // = [4], "minus1" = [-1]) -> Reshape -> y.
    private static OnnxModel ReshapeToARunTimeShape(params string[] pieces)
    {
        var graph = new OnnxGraph();
        graph.Inputs.Add(new ValueInfo { Name = "x", ElementType = Tessera.Tensors.DataType.Float32, Shape = [Dimension.Named("N"), Dimension.Known(3), Dimension.Known(4)] });
        graph.Initializers["zero"] = Tessera.Tensors.Tensor.Scalar(0L);
        graph.Initializers["axes"] = Tessera.Tensors.Tensor.FromArray(new long[] { 0 }, 1);
        graph.Initializers["four"] = Tessera.Tensors.Tensor.FromArray(new long[] { 4 }, 1);
        graph.Initializers["minus1"] = Tessera.Tensors.Tensor.FromArray(new long[] { -1 }, 1);
        graph.Nodes.Add(new OnnxNode { OpType = "Shape", Inputs = { "x" }, Outputs = { "s" } });
        graph.Nodes.Add(new OnnxNode { OpType = "Gather", Inputs = { "s", "zero" }, Outputs = { "n" } });
        graph.Nodes.Add(new OnnxNode { OpType = "Unsqueeze", Inputs = { "n", "axes" }, Outputs = { "n1" } });
        var concat = new OnnxNode { OpType = "Concat", Outputs = { "shape" }, Attributes = { ["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = 0 } } };
        concat.Inputs.AddRange(pieces);
        graph.Nodes.Add(concat);
        graph.Nodes.Add(new OnnxNode { OpType = "Reshape", Inputs = { "x", "shape" }, Outputs = { "y" } });
        graph.Outputs.Add(new ValueInfo { Name = "y" });
        return new OnnxModel { Graph = graph, OpsetImports = { [""] = 13 } };
    }
}
