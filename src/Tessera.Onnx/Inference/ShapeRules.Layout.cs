using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Rules for operators that move data around: reshapes, transposes, slicing, gathering, padding, resizing.</summary>
internal static partial class ShapeRules
{
    private static void AddLayoutRules(Dictionary<string, Action<InferenceContext>> rules)
    {
        rules["Reshape"] = Reshape;
        rules["Flatten"] = c =>
        {
            var x = c.InputShape(0);
            if (x is null) return;
            int axis = Dims.Axis(c.Int("axis", 1), x.Length);
            c.SetOutput(0, c.InputType(0), [Dims.Product(x[..axis]), Dims.Product(x[axis..])]);
        };
        rules["Transpose"] = c =>
        {
            var x = c.InputShape(0);
            if (x is null) return;
            long[] perm = c.Ints("perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
            c.SetOutput(0, c.InputType(0), perm.Select(p => x[p]).ToArray());
        };
        rules["Concat"] = Concat;
        rules["Squeeze"] = Squeeze;
        rules["Unsqueeze"] = Unsqueeze;
        rules["Slice"] = Slice;
        rules["Split"] = Split;
        rules["Gather"] = Gather;
        rules["GatherElements"] = c => c.SetOutput(0, c.InputType(0), c.InputShape(1));
        rules["GatherND"] = c =>
        {
            var data = c.InputShape(0);
            var indices = c.InputShape(1);
            if (data is null || indices is null || !indices[^1].IsKnown) return;
            int batch = (int)c.Int("batch_dims", 0);
            int last = (int)indices[^1].Value!.Value;
            c.SetOutput(0, c.InputType(0), [.. indices[..^1], .. data[(batch + last)..]]);
        };
        rules["Expand"] = c =>
        {
            long[]? shape = c.InputInts(1);
            c.SetOutput(0, c.InputType(0), shape is null ? null : Dims.Broadcast(c.InputShape(0), Dims.FromLongs(shape)));
        };
        rules["Tile"] = c =>
        {
            var x = c.InputShape(0);
            long[]? repeats = c.InputInts(1);
            if (x is null || repeats is null) return;
            c.SetOutput(0, c.InputType(0), x.Select((d, i) => Dims.Multiply(d, Dimension.Known(repeats[i]))).ToArray());
        };
        rules["Pad"] = Pad;
        rules["Resize"] = Resize;
        rules["DepthToSpace"] = c => BlockRearrange(c, toSpace: true);
        rules["SpaceToDepth"] = c => BlockRearrange(c, toSpace: false);
        rules["OneHot"] = c =>
        {
            var indices = c.InputShape(0);
            var depth = c.InputValue(1);
            if (indices is null) return;
            var dims = indices.ToList();
            int axis = Dims.Axis(c.Int("axis", -1), indices.Length + 1);
            dims.Insert(axis, depth is null ? Dimension.Unknown : Dimension.Known((long)ScalarAsDouble(depth)));
            c.SetOutput(0, c.InputType(2), [.. dims]);
        };
    }

    private static void Reshape(InferenceContext c)
    {
        var x = c.InputShape(0);
        long[]? target = c.Opset < 5 ? c.Ints("shape") : c.InputInts(1);
        if (target is null)
        {
            // A shape computed at run time (an exporter's Shape → Gather → Concat chain of symbolic sizes) still has a
            // known length: the output's rank, which passes that only need the rank (which axis is the last) can use.
            if (c.Opset >= 5 && c.InputShape(1) is [{ IsKnown: true } length])
            {
                c.SetOutput(0, c.InputType(0), Enumerable.Repeat(Dimension.Unknown, (int)length.Value!.Value).ToArray());
            }

            return;
        }

        bool allowZero = c.Int("allowzero", 0) != 0;
        var dims = new Dimension[target.Length];
        int inferred = -1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == 0 && !allowZero) dims[i] = x is not null && i < x.Length ? x[i] : Dimension.Unknown;
            else if (target[i] == -1) inferred = i;
            else dims[i] = Dimension.Known(target[i]);
        }

        if (inferred >= 0)
        {
            var total = x is null ? Dimension.Unknown : Dims.Product(x);
            var rest = Dims.Product(dims.Where((_, i) => i != inferred));
            dims[inferred] = total.IsKnown && rest.IsKnown && rest.Value != 0 ? Dimension.Known(total.Value!.Value / rest.Value!.Value) : Dimension.Unknown;
        }

        c.SetOutput(0, c.InputType(0), dims);
        if (c.InputValue(0) is { } value && dims.All(d => d.IsKnown))
        {
            c.SetOutputValue(0, value.Reshape(dims.Select(d => (int)d.Value!.Value).ToArray()));
        }
    }

    private static void Concat(InferenceContext c)
    {
        var shapes = Enumerable.Range(0, c.InputCount).Select(c.InputShape).ToArray();
        if (shapes.Any(s => s is null)) return;
        int axis = Dims.Axis(c.Int("axis", 0), shapes[0]!.Length);
        var result = (Dimension[])shapes[0]!.Clone();
        for (int i = 1; i < shapes.Length; i++)
        {
            result[axis] = Dims.Add(result[axis], shapes[i]![axis]);
            for (int d = 0; d < result.Length; d++)
            {
                if (d != axis && !result[d].IsKnown) result[d] = shapes[i]![d];
            }
        }

        c.SetOutput(0, c.InputType(0), result);
        ConcatValue(c);
    }

    private static long[]? AxesOf(InferenceContext c, int inputIndex, int sinceOpset) =>
        c.Opset >= sinceOpset ? c.InputInts(inputIndex) : c.Ints("axes");

    private static void Squeeze(InferenceContext c)
    {
        var x = c.InputShape(0);
        if (x is null) return;
        long[]? axes = AxesOf(c, 1, 13);
        if (axes is null && (c.Opset < 13 || !c.HasInput(1)))
        {
            if (x.Any(d => !d.IsKnown)) return;
            c.SetOutput(0, c.InputType(0), x.Where(d => d.Value != 1).ToArray());
        }
        else if (axes is not null)
        {
            var drop = axes.Select(a => Dims.Axis(a, x.Length)).ToHashSet();
            c.SetOutput(0, c.InputType(0), x.Where((_, i) => !drop.Contains(i)).ToArray());
        }

        ReshapeValue(c);
    }

    private static void Unsqueeze(InferenceContext c)
    {
        var x = c.InputShape(0);
        long[]? axes = AxesOf(c, 1, 13);
        if (x is null || axes is null) return;
        int rank = x.Length + axes.Length;
        var insert = axes.Select(a => Dims.Axis(a, rank)).ToHashSet();
        var result = new Dimension[rank];
        for (int i = 0, j = 0; i < rank; i++)
        {
            result[i] = insert.Contains(i) ? Dimension.Known(1) : x[j++];
        }

        c.SetOutput(0, c.InputType(0), result);
        ReshapeValue(c);
    }

    private static void BlockRearrange(InferenceContext c, bool toSpace)
    {
        var x = c.InputShape(0);
        long b = c.Int("blocksize", 1);
        if (x is null || x.Length != 4) return;
        Dimension Scale(Dimension d, bool up) => !d.IsKnown ? d : Dimension.Known(up ? d.Value!.Value * b : d.Value!.Value / b);
        c.SetOutput(0, c.InputType(0), toSpace
            ? [x[0], !x[1].IsKnown ? x[1] : Dimension.Known(x[1].Value!.Value / (b * b)), Scale(x[2], true), Scale(x[3], true)]
            : [x[0], !x[1].IsKnown ? x[1] : Dimension.Known(x[1].Value!.Value * b * b), Scale(x[2], false), Scale(x[3], false)]);
    }

    private static double ScalarAsDouble(Tensor t) => t.DataType switch
    {
        DataType.Int64 => t.Span<long>()[0],
        DataType.Int32 => t.Span<int>()[0],
        DataType.Float32 => t.Span<float>()[0],
        DataType.Float64 => t.Span<double>()[0],
        _ => throw new NotSupportedException(),
    };
}
