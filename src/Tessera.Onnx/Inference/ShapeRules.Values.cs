using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>
/// Rules that compute small integer values ahead of time: Shape, Size, Constant, ConstantOfShape, Range, and
/// Gather/Concat/Slice/Squeeze/Unsqueeze/arithmetic on them, so that shapes built at run time stay known.
/// </summary>
internal static partial class ShapeRules
{
    private const int MaxFoldedElements = 64;

    private static void AddValueRules(Dictionary<string, Action<InferenceContext>> rules)
    {
        rules["Shape"] = c =>
        {
            var x = c.InputShape(0);
            if (x is null) return;
            int rank = x.Length;
            int start = Math.Clamp(Dims.Axis(c.Int("start", 0), rank), 0, rank);
            int end = c.Attribute("end") is null ? rank : Math.Clamp(Dims.Axis(c.Int("end", rank), rank), 0, rank);
            var dims = x[start..Math.Max(start, end)];
            c.SetOutput(0, DataType.Int64, [Dimension.Known(dims.Length)]);
            if (dims.All(d => d.IsKnown))
            {
                c.SetOutputValue(0, Tensor.FromArray(dims.Select(d => d.Value!.Value).ToArray(), dims.Length));
            }
        };
        rules["Size"] = c =>
        {
            c.SetOutput(0, DataType.Int64, []);
            var x = c.InputShape(0);
            if (x is not null && Dims.Product(x) is { IsKnown: true } n) c.SetOutputValue(0, Tensor.Scalar(n.Value!.Value));
        };
        rules["Constant"] = c =>
        {
            var value = c.Attribute("value")?.Tensor;
            if (value is not null) { c.SetOutputValue(0, value); return; }
            if (c.Attribute("value_int") is { } i) c.SetOutputValue(0, Tensor.Scalar(i.Int));
            else if (c.Attribute("value_ints") is { } ints) c.SetOutputValue(0, Tensor.FromArray(ints.Ints, ints.Ints.Length));
            else if (c.Attribute("value_float") is { } f) c.SetOutputValue(0, Tensor.Scalar(f.Float));
            else if (c.Attribute("value_floats") is { } fs) c.SetOutputValue(0, Tensor.FromArray(fs.Floats, fs.Floats.Length));
        };
        rules["ConstantOfShape"] = c =>
        {
            long[]? shape = c.InputInts(0);
            var type = c.Attribute("value")?.Tensor?.DataType ?? DataType.Float32;
            c.SetOutput(0, type, shape is null ? null : Dims.FromLongs(shape));
        };
        rules["Range"] = c => c.SetOutput(0, c.InputType(0), [Dimension.Unknown]);
    }

    private static long[]? SmallInts(InferenceContext c, int i)
    {
        var t = c.InputValue(i);
        return t is null || t.Length > MaxFoldedElements ? null : c.InputInts(i);
    }

    private static void SetInts(InferenceContext c, long[] values, int[] shape, DataType type)
    {
        c.SetOutputValue(0, type == DataType.Int32 ? Tensor.FromArray(values.Select(v => (int)v).ToArray(), shape) : Tensor.FromArray(values, shape));
    }

    private static void ArithmeticValue(InferenceContext c)
    {
        if (c.InputCount != 2 || c.Node.OpType is not ("Add" or "Sub" or "Mul" or "Div")) return;
        long[]? a = SmallInts(c, 0);
        long[]? b = SmallInts(c, 1);
        if (a is null || b is null) return;
        var shape = ShapeMath.Broadcast(c.InputValue(0)!.Shape, c.InputValue(1)!.Shape);
        int n = ShapeMath.ElementCount(shape);
        if ((a.Length != n && a.Length != 1) || (b.Length != n && b.Length != 1)) return;
        var result = new long[n];
        for (int i = 0; i < n; i++)
        {
            long x = a[a.Length == 1 ? 0 : i], y = b[b.Length == 1 ? 0 : i];
            result[i] = c.Node.OpType switch
            {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                _ => y == 0 ? 0 : (long)Math.Floor(x / (double)y),
            };
        }

        SetInts(c, result, shape, c.InputType(0));
    }

    private static void ConcatValue(InferenceContext c)
    {
        var parts = Enumerable.Range(0, c.InputCount).Select(i => SmallInts(c, i)).ToArray();
        if (parts.Any(p => p is null) || Enumerable.Range(0, c.InputCount).Any(i => c.InputValue(i)!.Rank != 1)) return;
        long[] all = parts.SelectMany(p => p!).ToArray();
        SetInts(c, all, [all.Length], c.InputType(0));
    }

    private static void ReshapeValue(InferenceContext c)
    {
        long[]? values = SmallInts(c, 0);
        if (values is null || c.Outputs[0] is not { Shape: { } shape } || shape.Any(d => !d.IsKnown)) return;
        SetInts(c, values, shape.Select(d => (int)d.Value!.Value).ToArray(), c.InputType(0));
    }

    private static void GatherValue(InferenceContext c, int axis)
    {
        long[]? data = SmallInts(c, 0);
        long[]? indices = SmallInts(c, 1);
        if (data is null || indices is null || c.InputValue(0)!.Rank != 1 || axis != 0) return;
        var result = indices.Select(i => data[i < 0 ? i + data.Length : i]).ToArray();
        SetInts(c, result, c.InputValue(1)!.Shape, c.InputType(0));
    }

    private static void SliceValue(InferenceContext c, (long Start, long Step, long Count)[] ranges)
    {
        long[]? data = SmallInts(c, 0);
        if (data is null || c.InputValue(0)!.Rank != 1) return;
        var (start, step, count) = ranges[0];
        var result = new long[count];
        for (long i = 0; i < count; i++) result[i] = data[start + i * step];
        SetInts(c, result, [result.Length], c.InputType(0));
    }
}
