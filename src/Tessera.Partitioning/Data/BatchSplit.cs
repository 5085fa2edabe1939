using Tessera.Tensors;

namespace Tessera.Partitioning.Data;

/// <summary>
/// Splitting a batch between replicas in proportion to their weights, and joining their results back in order.
/// Rows are whole samples along the batch axis; slices and joins copy bytes only, so every sample's values are
/// the ones the replica computed.
/// </summary>
public static class BatchSplit
{
    /// <summary>
    /// Rows per replica: <paramref name="batch"/> times each weight's share, rounded down, with the rows left over
    /// going to the largest fractional parts (ties to the earlier replica). The counts sum to the batch.
    /// </summary>
    public static int[] Counts(int batch, IReadOnlyList<double> weights)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), "the batch size is negative");
        // Loops, not LINQ: a deployment cuts every batch with this (issue 19).
        double total = 0;
        bool valid = weights.Count > 0;
        foreach (double w in weights)
        {
            valid &= w > 0 && !double.IsInfinity(w);
            total += w;
        }

        if (!valid) throw new ArgumentException("replica weights must be positive, finite numbers", nameof(weights));
        var counts = new int[weights.Count];
        var remainders = new double[weights.Count];
        int given = 0;
        for (int r = 0; r < counts.Length; r++)
        {
            double exact = batch * weights[r] / total;
            counts[r] = (int)Math.Floor(exact);
            remainders[r] = exact - counts[r];
            given += counts[r];
        }

        // The rows left go one each to the largest remainders, the lower index first among equals.
        Span<bool> topped = counts.Length <= 64 ? stackalloc bool[counts.Length] : new bool[counts.Length];
        for (int left = batch - given; left > 0; left--)
        {
            int best = -1;
            for (int r = 0; r < counts.Length; r++)
            {
                if (!topped[r] && (best < 0 || remainders[r] > remainders[best])) best = r;
            }

            topped[best] = true;
            counts[best]++;
        }

        return counts;
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, start + count) of <paramref name="tensor"/> along <paramref name="axis"/>: a
    /// read-only view of its storage when those rows are contiguous (every axis before has size 1, as for a batch on
    /// axis 0), so splitting a batch costs no copy; a copy otherwise.
    /// </summary>
    public static unsafe Tensor Slice(Tensor tensor, int axis, int start, int count)
    {
        if (axis < 0 || axis >= tensor.Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is outside a tensor of rank {tensor.Rank}");
        if (start < 0 || count < 0 || start + count > tensor.Shape[axis])
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} are outside axis {axis} of {tensor}");
        }

        int[] shape = (int[])tensor.Shape.Clone();
        shape[axis] = count;
        int outer = ShapeMath.Product(tensor.Shape, 0, axis);
        int inner = ShapeMath.Product(tensor.Shape, axis + 1, tensor.Rank);
        if (outer == 1 && tensor.DataType != DataType.String)
        {
            return Tensor.FromPointer(tensor.DataType, shape, tensor.Pointer + ((long)start * inner * tensor.ElementSize), tensor);
        }

        var result = Tensor.Allocate(tensor.DataType, shape);
        int rows = tensor.Shape[axis];
        for (int o = 0; o < outer; o++)
        {
            CopyRows(tensor, ((long)o * rows + start) * inner, result, (long)o * count * inner, (long)count * inner);
        }

        return result;
    }

    /// <summary>
    /// <paramref name="tensor"/> cut along <paramref name="axis"/> into consecutive parts of <paramref name="counts"/>
    /// rows (views where the rows are contiguous, see <see cref="Slice"/>).
    /// </summary>
    public static Tensor[] Split(Tensor tensor, int axis, IReadOnlyList<int> counts)
    {
        var parts = new Tensor[counts.Count];
        for (int i = 0, start = 0; i < parts.Length; start += counts[i], i++)
        {
            parts[i] = Slice(tensor, axis, start, counts[i]);
        }

        return parts;
    }

    /// <summary>True when two sets of named tensors can be joined along axis 0: same names, element types, and every dimension but the first.</summary>
    public static bool Joinable(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var (name, x) in a)
        {
            if (!b.TryGetValue(name, out var y) || x.DataType != y.DataType || x.Rank != y.Rank || x.Rank == 0) return false;
            if (!x.Shape.AsSpan(1).SequenceEqual(y.Shape.AsSpan(1))) return false;
        }

        return true;
    }

    /// <summary>Joins tensors that agree on every axis but <paramref name="axis"/>, in the order given.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts, int axis)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        var first = parts[0];
        foreach (var p in parts)
        {
            bool same = p.DataType == first.DataType && p.Rank == first.Rank
                && Enumerable.Range(0, p.Rank).All(d => d == axis || p.Shape[d] == first.Shape[d]);
            if (!same) throw new ArgumentException($"cannot concatenate {p} with {first} along axis {axis}", nameof(parts));
        }

        int[] shape = (int[])first.Shape.Clone();
        shape[axis] = parts.Sum(p => p.Shape[axis]);
        var result = Tensor.Allocate(first.DataType, shape);
        int outer = ShapeMath.Product(first.Shape, 0, axis);
        int inner = ShapeMath.Product(first.Shape, axis + 1, first.Rank);
        long offset = 0;
        for (int o = 0; o < outer; o++)
        {
            foreach (var p in parts)
            {
                long n = (long)p.Shape[axis] * inner;
                CopyRows(p, o * n, result, offset, n);
                offset += n;
            }
        }

        return result;
    }

    private static void CopyRows(Tensor from, long fromElement, Tensor to, long toElement, long elements)
    {
        if (from.DataType == DataType.String)
        {
            Array.Copy(from.Strings, fromElement, to.Strings, toElement, elements);
            return;
        }

        int size = from.ElementSize;
        from.Bytes.Slice(checked((int)(fromElement * size)), checked((int)(elements * size)))
            .CopyTo(to.Bytes.Slice(checked((int)(toElement * size))));
    }
}
