using Tessera.Tensors;

namespace Tessera.Partitioning.TensorParallel;

/// <summary>Cuts a rank's part out of a weight: chosen ranges along one axis, concatenated in order.</summary>
internal static class TensorSlicing
{
    /// <summary>
    /// Rank <paramref name="rank"/>'s block of every segment along <paramref name="axis"/>: for segments [s1, s2, ..]
    /// the ranges [r·s1/T, (r+1)·s1/T), then the same within s2, and so on.
    /// </summary>
    public static Tensor Block(Tensor tensor, int axis, IReadOnlyList<int> segments, int rank, int degree)
    {
        var ranges = new List<(int Start, int Length)>();
        int offset = 0;
        foreach (int segment in segments)
        {
            int length = segment / degree;
            ranges.Add((offset + (rank * length), length));
            offset += segment;
        }

        return Take(tensor, axis, ranges);
    }

    public static Tensor Take(Tensor tensor, int axis, IReadOnlyList<(int Start, int Length)> ranges)
    {
        var shape = (int[])tensor.Shape.Clone();
        shape[axis] = ranges.Sum(r => r.Length);
        var result = Tensor.Allocate(tensor.DataType, shape);
        int outer = tensor.Shape.Take(axis).Aggregate(1, (a, b) => a * b);
        int inner = tensor.Shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b) * tensor.ElementSize;
        int sourceRow = tensor.Shape[axis] * inner, targetRow = shape[axis] * inner;
        var source = tensor.Bytes;
        var target = result.Bytes;
        for (int o = 0; o < outer; o++)
        {
            int at = o * targetRow;
            foreach (var (start, length) in ranges)
            {
                source.Slice((o * sourceRow) + (start * inner), length * inner).CopyTo(target.Slice(at, length * inner));
                at += length * inner;
            }
        }

        return result;
    }
}
