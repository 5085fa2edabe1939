using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Onnx.Inference;

/// <summary>Rules for Slice, Split, Gather, Pad and Resize, whose output sizes depend on constant inputs.</summary>
internal static partial class ShapeRules
{
    private static void Slice(InferenceContext c)
    {
        var x = c.InputShape(0);
        if (x is null) return;
        long[]? starts = c.Opset < 10 ? c.Ints("starts") : c.InputInts(1);
        long[]? ends = c.Opset < 10 ? c.Ints("ends") : c.InputInts(2);
        long[]? axes = c.Opset < 10 ? c.Ints("axes") : c.HasInput(3) ? c.InputInts(3) : null;
        long[]? steps = c.Opset < 10 ? null : c.HasInput(4) ? c.InputInts(4) : null;
        if (starts is null || ends is null || (c.Opset >= 10 && c.HasInput(3) && axes is null) || (c.HasInput(4) && c.Opset >= 10 && steps is null)) return;
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var result = (Dimension[])x.Clone();
        var ranges = new (long Start, long Step, long Count)[x.Length];
        for (int i = 0; i < x.Length; i++) ranges[i] = (0, 1, x[i].Value ?? -1);
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = Dims.Axis(axes[i], x.Length);
            if (!x[axis].IsKnown)
            {
                result[axis] = Dimension.Unknown;
                continue;
            }

            long n = x[axis].Value!.Value;
            long step = steps?[i] ?? 1;
            long start = starts[i] < 0 ? starts[i] + n : starts[i];
            long end = ends[i] < 0 ? ends[i] + n : ends[i];
            start = step > 0 ? Math.Clamp(start, 0, n) : Math.Clamp(start, 0, n - 1);
            end = step > 0 ? Math.Clamp(end, 0, n) : Math.Clamp(end, -1, n - 1);
            long count = Math.Max(0, step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step);
            result[axis] = Dimension.Known(count);
            ranges[axis] = (start, step, count);
        }

        c.SetOutput(0, c.InputType(0), result);
        SliceValue(c, ranges);
    }

    private static void Split(InferenceContext c)
    {
        var x = c.InputShape(0);
        if (x is null) return;
        int axis = Dims.Axis(c.Int("axis", 0), x.Length);
        long[]? split = c.Opset >= 13 ? (c.HasInput(1) ? c.InputInts(1) : null) : c.Ints("split");
        int outputs = c.Node.Outputs.Count;
        for (int i = 0; i < outputs; i++)
        {
            var dims = (Dimension[])x.Clone();
            if (split is not null)
            {
                dims[axis] = Dimension.Known(split[i]);
            }
            else if (x[axis].IsKnown && !(c.Opset >= 13 && c.HasInput(1)))
            {
                long n = x[axis].Value!.Value;
                long chunk = (n + outputs - 1) / outputs;
                dims[axis] = Dimension.Known(Math.Max(0, Math.Min(chunk, n - chunk * i)));
            }
            else
            {
                dims[axis] = Dimension.Unknown;
            }

            c.SetOutput(i, c.InputType(0), dims);
        }
    }

    private static void Gather(InferenceContext c)
    {
        var data = c.InputShape(0);
        var indices = c.InputShape(1);
        if (data is null || indices is null) return;
        int axis = Dims.Axis(c.Int("axis", 0), data.Length);
        c.SetOutput(0, c.InputType(0), [.. data[..axis], .. indices, .. data[(axis + 1)..]]);
        GatherValue(c, axis);
    }

    private static void Pad(InferenceContext c)
    {
        var x = c.InputShape(0);
        long[]? pads = c.Opset < 11 ? c.Ints("pads") : c.InputInts(1);
        if (x is null || pads is null) return;
        long[]? axes = c.Opset >= 18 && c.HasInput(3) ? c.InputInts(3) : null;
        axes ??= Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        var result = (Dimension[])x.Clone();
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = Dims.Axis(axes[i], x.Length);
            result[axis] = Dims.Add(x[axis], Dimension.Known(pads[i] + pads[i + axes.Length]));
        }

        c.SetOutput(0, c.InputType(0), result);
    }

    private static void Resize(InferenceContext c)
    {
        var x = c.InputShape(0);
        if (x is null) return;
        int scalesIndex = c.Opset < 11 ? 1 : 2;
        long[]? sizes = c.Opset >= 11 && c.HasInput(3) ? c.InputInts(3) : null;
        var scalesTensor = c.InputValue(scalesIndex);
        if (sizes is { Length: > 0 })
        {
            c.SetOutput(0, c.InputType(0), Dims.FromLongs(sizes));
        }
        else if (scalesTensor is { DataType: DataType.Float32, Length: > 0 })
        {
            float[] scales = scalesTensor.ToArray<float>();
            c.SetOutput(0, c.InputType(0), x.Select((d, i) => d.IsKnown ? Dimension.Known((long)Math.Floor(d.Value!.Value * scales[i])) : Dimension.Unknown).ToArray());
        }
        else
        {
            c.SetOutput(0, c.InputType(0), x.Select(_ => Dimension.Unknown).ToArray());
        }
    }
}
