using Tessera.Tensors;
using static Tessera.Tests.Kernels.Layout.LayoutHarness;

namespace Tessera.Tests.Kernels.Layout;

public sealed class SliceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomSlicesMatchReference(int threads)
    {
        var random = new Random(11 + threads);
        for (int trial = 0; trial < 400; trial++)
        {
            int rank = random.Next(1, 5);
            var shape = new int[rank];
            for (int k = 0; k < rank; k++)
            {
                shape[k] = random.Next(10) == 0 ? 0 : random.Next(1, 9);
            }

            var input = Random(random, WordTypes[trial % WordTypes.Length], shape);
            int count = random.Next(1, rank + 1);
            var axes = Enumerable.Range(0, rank).OrderBy(_ => random.Next()).Take(count).ToArray();
            var starts = new long[count];
            var ends = new long[count];
            var steps = new long[count];
            for (int i = 0; i < count; i++)
            {
                int dim = shape[axes[i]];
                starts[i] = Bound(random, dim);
                ends[i] = Bound(random, dim);
                steps[i] = random.Next(8) switch { 0 => -1, 1 => -2, 2 => -3, 3 => 2, 4 => 3, 5 => long.MaxValue, _ => 1 };
            }

            long[] axisValues = axes.Select(a => random.Next(2) == 0 ? (long)a : a - rank).ToArray();
            Check(input, starts, ends, axisValues, steps, threads);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LargeSlicesMatchReference(int threads)
    {
        var random = new Random(5);
        foreach (var type in WordTypes)
        {
            var input = Random(random, type, [64, 301]);
            Check(input, [1], [300], [1], [1], threads);
            Check(input, [0], [301], [1], [2], threads);
            Check(input, [-1, 300], [long.MinValue, 0], [0, 1], [-1, -3], threads);
            Check(input, [3], [60], [0], [1], threads);
        }
    }

    [Fact]
    public void ContiguousSliceIsAView()
    {
        var input = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 4, 6);
        var output = Run("Slice", 13, [input, Longs(1), Longs(3), Longs(0)], 1)[0]!;
        Assert.Equal([2, 6], output.Shape);
        Assert.Equal(Enumerable.Range(6, 12).Select(i => (float)i), output.ToArray<float>());
        unsafe
        {
            Assert.True(output.Pointer == input.Pointer + (6 * sizeof(float)));
        }
    }

    [Fact]
    public void Opset1TakesAttributes()
    {
        var input = Tensor.FromArray(Enumerable.Range(0, 12).ToArray(), 3, 4);
        var output = Run("Slice", 1, [input], 1, 1, Ints("starts", 1, -3), Ints("ends", 1000, -1), Ints("axes", 0, 1))[0]!;
        Assert.Equal([2, 2], output.Shape);
        Assert.Equal([5, 6, 9, 10], output.ToArray<int>());
    }

    private static long Bound(Random random, int dim) => random.Next(10) switch
    {
        0 => long.MinValue,
        1 => long.MaxValue,
        _ => random.Next(-dim - 3, dim + 4),
    };

    private static void Check(Tensor input, long[] starts, long[] ends, long[] axes, long[] steps, int threads)
    {
        int rank = input.Rank;
        var picks = new List<int>[rank];
        for (int k = 0; k < rank; k++)
        {
            picks[k] = Enumerable.Range(0, input.Shape[k]).ToList();
        }

        for (int i = 0; i < axes.Length; i++)
        {
            int axis = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
            picks[axis] = Reference(starts[i], ends[i], steps[i], input.Shape[axis]);
        }

        int[] shape = picks.Select(p => p.Count).ToArray();
        int[] strides = ShapeMath.Strides(input.Shape);
        var expected = Gather(input, shape, index =>
        {
            int offset = 0;
            for (int k = 0; k < rank; k++)
            {
                offset += picks[k][index[k]] * strides[k];
            }

            return offset;
        });
        var actual = Run("Slice", 13, [input, Longs(starts), Longs(ends), Longs(axes), Longs(steps)], threads)[0];
        AssertSame(expected, actual, $"{input} starts [{string.Join(",", starts)}] ends [{string.Join(",", ends)}] axes [{string.Join(",", axes)}] steps [{string.Join(",", steps)}]");
    }

    /// <summary>The indices the spec's clamping rules select along one axis, walked one step at a time.</summary>
    private static List<int> Reference(long start, long end, long step, int dim)
    {
        var result = new List<int>();
        start = start < 0 ? start + dim : start;
        end = end < 0 ? end + dim : end;
        if (step > 0)
        {
            start = Math.Min(Math.Max(start, 0), dim);
            end = Math.Min(Math.Max(end, 0), dim);
            for (long i = start; i < end; i += Math.Min(step, dim))
            {
                result.Add((int)i);
            }
        }
        else if (dim > 0)
        {
            start = Math.Min(Math.Max(start, 0), dim - 1);
            end = Math.Min(Math.Max(end, -1), dim - 1);
            for (long i = start; i > end; i += step)
            {
                result.Add((int)i);
            }
        }

        return result;
    }
}
