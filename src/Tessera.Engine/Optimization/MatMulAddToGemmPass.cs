using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Engine.Optimization;

/// <summary>
/// MatMul(A, B) + C → Gemm(A, B, C) when A and B are 2-D and C is a constant that Gemm's unidirectional
/// broadcast accepts ([N], [1,N], [M,1], [M,N] or a scalar), so the Add's output has the MatMul's shape.
/// </summary>
internal sealed class MatMulAddToGemmPass : IGraphPass
{
    public string Name => "matmul-add-to-gemm";

    public GraphOptimizationLevel Level => GraphOptimizationLevel.Basic;

    public bool Apply(GraphEditor graph)
    {
        if (graph.Model.DefaultOpset < 7) return false;
        bool changed = false;
        foreach (var matmul in graph.Nodes.ToList())
        {
            if (!graph.IsLive(matmul) || !GraphEditor.IsOp(matmul, "MatMul") || matmul.Outputs.Count != 1) continue;
            string a = matmul.Inputs[0], b = matmul.Inputs[1];
            if (graph.Shape(a) is not { Length: 2 } shapeA || graph.Shape(b) is not { Length: 2 } shapeB) continue;
            if (graph.ElementType(a) != DataType.Float32 && graph.ElementType(b) != DataType.Float32) continue;
            if (graph.SoleConsumer(matmul.Outputs[0]) is not { } add || !GraphEditor.IsOp(add, "Add")) continue;
            if (GraphEditor.OtherInput(add, matmul.Outputs[0]) is not { } c || graph.Constant(c) is not { DataType: DataType.Float32 } bias) continue;
            if (!Broadcasts(bias.Shape, shapeA[0], shapeB[1])) continue;

            var gemm = GraphEditor.NewNode("Gemm", string.Empty, matmul.Name, [a, b, c], [add.Outputs[0]]);
            graph.Replace([matmul, add], gemm);
            graph.Log($"{matmul} + {add} → Gemm");
            changed = true;
        }

        return changed;
    }

    private static bool Broadcasts(int[] c, Dimension m, Dimension n)
    {
        static bool Fits(int size, Dimension d) => size == 1 || d.Value == size;
        return c.Length switch
        {
            0 => true,
            1 => Fits(c[0], n),
            2 => Fits(c[0], m) && Fits(c[1], n),
            _ => false,
        };
    }
}
