using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Rules for reductions, arg-reductions and TopK.</summary>
internal static partial class ShapeRules
{
    private static void AddReductionRules(Dictionary<string, Action<InferenceContext>> rules)
    {
        foreach (var op in new[] { "ReduceL1", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp" })
        {
            // ReduceSum took axes as an input from opset 13, the others from opset 18.
            int axesInputSince = op == "ReduceSum" ? 13 : 18;
            rules[op] = c => Reduce(c, axesInputSince);
        }

        foreach (var op in new[] { "ArgMax", "ArgMin" })
        {
            rules[op] = c =>
            {
                var x = c.InputShape(0);
                if (x is null) return;
                int axis = Dims.Axis(c.Int("axis", 0), x.Length);
                c.SetOutput(0, DataType.Int64, Reduced(x, [axis], c.Int("keepdims", 1) != 0));
            };
        }

        rules["TopK"] = c =>
        {
            var x = c.InputShape(0);
            if (x is null) return;
            int axis = Dims.Axis(c.Int("axis", -1), x.Length);
            long[]? k = c.Opset >= 10 ? c.InputInts(1) : [c.Int("k", 0)];
            var y = (Dimension[])x.Clone();
            y[axis] = k is null ? Dimension.Unknown : Dimension.Known(k[0]);
            c.SetOutput(0, c.InputType(0), y);
            c.SetOutput(1, DataType.Int64, y);
        };
    }

    private static void Reduce(InferenceContext c, int axesInputSince)
    {
        var x = c.InputShape(0);
        if (x is null) return;
        bool keep = c.Int("keepdims", 1) != 0;
        long[]? axes;
        if (c.Opset >= axesInputSince)
        {
            if (c.HasInput(1))
            {
                axes = c.InputInts(1);
                if (axes is null) return;
            }
            else
            {
                axes = [];
            }
        }
        else
        {
            axes = c.Ints("axes") ?? [];
        }

        if (axes.Length == 0)
        {
            if (c.Int("noop_with_empty_axes", 0) != 0)
            {
                c.PassThrough();
                return;
            }

            axes = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        }

        c.SetOutput(0, c.InputType(0), Reduced(x, axes.Select(a => Dims.Axis(a, x.Length)).ToHashSet(), keep));
    }

    private static Dimension[] Reduced(Dimension[] x, HashSet<int> axes, bool keep)
    {
        var result = new List<Dimension>();
        for (int i = 0; i < x.Length; i++)
        {
            if (!axes.Contains(i)) result.Add(x[i]);
            else if (keep) result.Add(Dimension.Known(1));
        }

        return [.. result];
    }
}
