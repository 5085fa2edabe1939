namespace Tessera.Tensors;

/// <summary>Shape arithmetic shared by every part: element counts, strides, broadcasting, axis handling.</summary>
public static class ShapeMath
{
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"negative dimension in shape {Format(shape)}");
            }

            count *= d;
            if (count > int.MaxValue)
            {
                throw new NotSupportedException($"shape {Format(shape)} has more than 2^31 elements");
            }
        }

        return (int)count;
    }

    /// <summary>Row-major strides in elements.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= shape[i];
        }

        return strides;
    }

    /// <summary>Product of dimensions [from, to).</summary>
    public static int Product(ReadOnlySpan<int> shape, int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++)
        {
            p *= shape[i];
        }

        return p;
    }

    /// <summary>Numpy-style multidirectional broadcast of two shapes.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"shapes {Format(a)} and {Format(b)} cannot be broadcast together");
            }

            result[i] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>Normalizes a possibly negative axis into [0, rank).</summary>
    public static int NormalizeAxis(long axis, int rank)
    {
        long normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= Math.Max(rank, 1))
        {
            throw new ArgumentException($"axis {axis} is out of range for rank {rank}");
        }

        return (int)normalized;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static string Format(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(",", parts) + "]";
    }
}
