using Tessera.Engine.Quantization;
using Tessera.Onnx.Io;
using Tessera.Partitioning.Cost;

namespace Tessera.Tests.Quantization;

/// <summary>The planner's cost model on a quantized model: int8 weights at their real size, integer products as products.</summary>
public sealed class QuantizedCostTests
{
    [Theory]
    [InlineData("dynamic")]
    [InlineData("static")]
    public void PlannerSeesInt8WeightsAndIntegerProducts(string mode)
    {
        var model = ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "bert.onnx"));
        var shapes = model.Graph.Inputs.ToDictionary(i => i.Name, _ => new[] { 2, 16 });
        var sample = shapes.ToDictionary(s => s.Key, s => Tessera.Tensors.Tensor.FromArray(new long[32], s.Value));
        var quantized = ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            Mode = mode == "static" ? QuantizationMode.Static : QuantizationMode.Dynamic,
            PerChannel = true,
            Calibration = [sample],
        });

        var floatCost = ModelCost.Analyze(model, shapes);
        var cost = ModelCost.Analyze(quantized, shapes);
        var products = cost.Nodes.Where(n => n.OpType == "QuantizedMatMul").ToList();
        // 13 projections; dynamic mode also quantizes the 4 attention products (Q·Kᵀ and P·V of 2 layers), counted as
        // MatMuls, and makes each layer's Q, K and V projections one product over their weights side by side.
        Assert.Equal(13, products.Count);
        Assert.All(products, p => Assert.Equal(OperatorFamily.MatrixProduct, p.Family));
        Assert.Equal(floatCost.TotalFlops, cost.TotalFlops, floatCost.TotalFlops * 0.02);

        // The 13 projections' weights (all but the embeddings and norms) shrink to a byte per value.
        double ratio = (double)cost.TotalParameterBytes / floatCost.TotalParameterBytes;
        Assert.InRange(ratio, 0.3, 0.5);
        Assert.Equal(cost.TotalParameterBytes, cost.Nodes.Sum(n => n.ParameterBytes));
    }

    /// <summary>
    /// A causal attention's Q·Kᵀ (which reads the mask and writes its rows' kept lengths as a second output) counts as
    /// one product of its real shape: dynamic int8 GPT costs the float model's FLOPs.
    /// </summary>
    [Fact]
    public void CausalAttentionProductsCountAsTheirMatMuls()
    {
        var model = ModelReader.Load(Path.Combine(TestPaths.Require(Path.Combine(TestPaths.Cache, "models")), "gpt.onnx"));
        var shapes = model.Graph.Inputs.ToDictionary(i => i.Name, _ => new[] { 2, 24 });
        var quantized = ModelQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Dynamic, PerChannel = true });
        var floatCost = ModelCost.Analyze(model, shapes);
        var cost = ModelCost.Analyze(quantized, shapes);
        Assert.Equal(2, cost.OptimizedModel.Graph.Nodes.Count(n => n.OpType == "QuantizedMatMul" && n.Inputs.Count > 9 && n.Inputs[9].Length > 0));
        Assert.All(cost.Nodes.Where(n => n.OpType == "QuantizedMatMul"), n => Assert.True(n.Flops > 0, n.Name));
        Assert.Equal(floatCost.TotalFlops, cost.TotalFlops, floatCost.TotalFlops * 0.02);
    }
}
