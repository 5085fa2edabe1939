using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>Finds the layers tensor parallelism can split: MatMul/Gemm with a constant 2-D floating-point weight and a computed input.</summary>
internal static class LinearLayerFinder
{
    public static Dictionary<OnnxNode, LinearLayer> Find(GraphIndex index)
    {
        var layers = new Dictionary<OnnxNode, LinearLayer>(ReferenceEqualityComparer.Instance);
        foreach (var node in index.Nodes)
        {
            if (node.Domain.Length == 0 && TryCreate(index, node) is { } layer)
            {
                layers[node] = layer;
            }
        }

        return layers;
    }

    private static LinearLayer? TryCreate(GraphIndex index, OnnxNode node)
    {
        if (node.OpType is not ("MatMul" or "Gemm") || node.Inputs.Count < 2 || node.Outputs.Count != 1)
        {
            return null;
        }

        string input = node.Inputs[0];
        string weightName = node.Inputs[1];
        if (input.Length == 0 || index.IsConstant(input) || index.ConstantOf(weightName) is not { Rank: 2 } weight || !IsFloat(weight.DataType))
        {
            return null;
        }

        if (node.OpType == "MatMul")
        {
            // A rank-1 input drops an axis, which the split bookkeeping does not follow.
            if (index.RankOf(input) is not int rank || rank < 2)
            {
                return null;
            }

            var (biasAdd, biasInput) = FindBias(index, node.Outputs[0], weight.Shape[1]);
            return new LinearLayer { Node = node, Input = input, WeightName = weightName, Weight = weight, BiasAdd = biasAdd, BiasInput = biasInput };
        }

        if (node.Attributes.GetValueOrDefault("transA")?.Int is 1)
        {
            return null;
        }

        bool transposed = node.Attributes.GetValueOrDefault("transB")?.Int is 1;
        int n = transposed ? weight.Shape[0] : weight.Shape[1];
        Tensor? c = null;
        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0)
        {
            // C must be constant and broadcast along N either fully (its last extent is N) or not at all (1).
            c = index.ConstantOf(node.Inputs[2]);
            if (c is null || c.Rank > 2 || (c.Rank > 0 && c.Shape[^1] != n && c.Shape[^1] != 1) || c.DataType != weight.DataType)
            {
                return null;
            }
        }

        return new LinearLayer { Node = node, Input = input, WeightName = weightName, Weight = weight, WeightTransposed = transposed, GemmBias = c };
    }

    private static (OnnxNode? Add, int Input) FindBias(GraphIndex index, string output, int n)
    {
        if (index.IsGraphOutput(output) || index.ConsumersOf(output) is not [var (add, slot)] || add.OpType != "Add" || add.Domain.Length != 0)
        {
            return (null, 0);
        }

        int biasInput = 1 - slot;
        return index.ConstantOf(add.Inputs[biasInput]) is { Rank: 1 } bias && bias.Shape[0] == n ? (add, biasInput) : (null, 0);
    }

    private static bool IsFloat(DataType type) => type is DataType.Float32 or DataType.Float16 or DataType.Float64;
}
