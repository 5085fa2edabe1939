using Tessera.Onnx.Graph;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Serving;

/// <summary>Small models built in code for the serving tests.</summary>
internal static class TestModels
{
    /// <summary>The wire datatypes the protocol names and the element types they map to.</summary>
    public static readonly (string Wire, DataType Type)[] AllTypes =
    [
        ("BOOL", DataType.Bool), ("UINT8", DataType.UInt8), ("UINT16", DataType.UInt16), ("UINT32", DataType.UInt32),
        ("UINT64", DataType.UInt64), ("INT8", DataType.Int8), ("INT16", DataType.Int16), ("INT32", DataType.Int32),
        ("INT64", DataType.Int64), ("FP16", DataType.Float16), ("FP32", DataType.Float32), ("FP64", DataType.Float64),
        ("BYTES", DataType.String),
    ];

    /// <summary>y = softmax(x·W + b), x: FP32 [batch, 4] → y: FP32 [batch, 3]; batchable.</summary>
    public static OnnxModel Affine(float scale = 1)
    {
        var w = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => ((i % 5 - 2) * 0.37f + i * 0.011f) * scale).ToArray(), 4, 3);
        var b = Tensor.FromArray(new[] { 0.1f, -0.2f, 0.3f }, 3);
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "batch", 4)
            .Initializer("w", w).Initializer("b", b)
            .Node("MatMul", ["x", "w"], ["xw"])
            .Node("Add", ["xw", "b"], ["z"])
            .Node("Softmax", ["z"], ["y"], "", GraphBuilder.Int("axis", -1))
            .Output("y", DataType.Float32)
            .Build();
        model.Graph.Outputs[0].Shape = [Dimension.Named("batch"), Dimension.Known(3)];
        return model;
    }

    /// <summary>One Identity per datatype: in_TYPE [n] → out_TYPE [n], for every wire datatype (or those given).</summary>
    public static OnnxModel Echo(IEnumerable<(string Wire, DataType Type)>? types = null)
    {
        var builder = new GraphBuilder();
        foreach (var (wire, type) in types ?? AllTypes)
        {
            builder.Input("in_" + wire, type, "n").Node("Identity", ["in_" + wire], ["out_" + wire]).Output("out_" + wire, type);
        }

        var model = builder.Build();
        foreach (var o in model.Graph.Outputs)
        {
            o.Shape = [Dimension.Named("n")];
        }

        return model;
    }
}
