using Tessera.Onnx.Graph;

namespace Tessera.Onnx.Inference;

/// <summary>Arithmetic on possibly symbolic dimensions.</summary>
internal static class Dims
{
    public static Dimension[] FromInts(ReadOnlySpan<int> shape)
    {
        var dims = new Dimension[shape.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = Dimension.Known(shape[i]);
        return dims;
    }

    public static Dimension[] FromLongs(IEnumerable<long> shape) => shape.Select(Dimension.Known).ToArray();

    public static Dimension Broadcast(Dimension a, Dimension b)
    {
        if (a.Value == 1) return b;
        if (b.Value == 1) return a;
        if (a.IsKnown) return a;
        if (b.IsKnown) return b;
        return a.Symbol is not null && a.Symbol == b.Symbol ? a : Dimension.Unknown;
    }

    /// <summary>Numpy broadcast of several shapes; null when any rank is unknown.</summary>
    public static Dimension[]? Broadcast(params Dimension[]?[] shapes)
    {
        if (shapes.Any(s => s is null)) return null;
        int rank = shapes.Max(s => s!.Length);
        var result = new Dimension[rank];
        for (int i = 0; i < rank; i++)
        {
            Dimension d = Dimension.Known(1);
            foreach (var s in shapes)
            {
                int j = i - (rank - s!.Length);
                if (j >= 0) d = Broadcast(d, s[j]);
            }

            result[i] = d;
        }

        return result;
    }

    public static Dimension Multiply(Dimension a, Dimension b) =>
        a.IsKnown && b.IsKnown ? Dimension.Known(a.Value!.Value * b.Value!.Value) :
        a.Value == 1 ? b : b.Value == 1 ? a : Dimension.Unknown;

    public static Dimension Add(Dimension a, Dimension b) =>
        a.IsKnown && b.IsKnown ? Dimension.Known(a.Value!.Value + b.Value!.Value) : Dimension.Unknown;

    public static Dimension Product(IEnumerable<Dimension> dims) => dims.Aggregate(Dimension.Known(1), Multiply);

    /// <summary>Output length of a sliding window: floor or ceil of (in + pads - dilated kernel) / stride + 1.</summary>
    public static Dimension Window(Dimension input, long kernel, long stride, long padBegin, long padEnd, long dilation, bool ceil)
    {
        if (!input.IsKnown) return Dimension.Unknown;
        long span = input.Value!.Value + padBegin + padEnd - ((kernel - 1) * dilation + 1);
        long n = ceil ? (long)Math.Ceiling(span / (double)stride) : (long)Math.Floor(span / (double)stride);
        if (ceil && n * stride >= input.Value.Value + padBegin) n--; // the last window must start inside the input or left pad
        return Dimension.Known(n + 1);
    }

    public static int Axis(long axis, int rank) => (int)(axis < 0 ? axis + rank : axis);
}
